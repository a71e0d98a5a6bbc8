// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title BidTree
/// @notice The bids of one task (at most 64, one storage slot each) and a tournament tree that
///         finds the highest of them in O(log n): TaskMarket evicts it when a lower bid comes at
///         the cap, so the cap cannot be filled to crowd cheaper bidders out.
/// @dev The tree is a complete binary tree over 64 leaves, leaf i = bid index i = node 64 + i,
///      inner nodes 1..63 (node v has children 2v and 2v + 1). It is stored as one word: bit v
///      is 1 iff node v's winner (its subtree's highest bid) comes from its right child. Ties
///      go left (the lower index). A subtree with no bid in it never wins: bids fill indices
///      0, 1, ... and keep them (an eviction reuses the index), so a right subtree is empty
///      exactly when its first leaf is >= the bid count, and such a node's bit stays 0. The
///      word fits next to the bid counters in the task's hottest slot, so the tree itself costs
///      no storage access: only the prices compared are read: <= 3 to insert (a binary search
///      up the new leaf's path), 6 to replace the highest (one per level).
library BidTree {
    /// @notice The most bids a tree holds (6 levels).
    uint256 internal constant MAX_BIDS = 64;

    /// @notice A bid in storage: one slot.
    struct Bid {
        address provider;
        uint96 price;
    }

    /// @notice The index of the highest bid (ties to the lowest index); 0 for an empty tree.
    function highest(uint256 tree) internal pure returns (uint256 w) {
        assembly ("memory-safe") {
            w := add(2, and(shr(1, tree), 1))
            w := add(add(w, w), and(shr(w, tree), 1))
            w := add(add(w, w), and(shr(w, tree), 1))
            w := add(add(w, w), and(shr(w, tree), 1))
            w := add(add(w, w), and(shr(w, tree), 1))
            w := sub(add(add(w, w), and(shr(w, tree), 1)), MAX_BIDS)
        }
    }

    /// @notice Adds bid index `n` (the current bid count) at `price`, where `lowest` is the
    ///         lowest price among the bids 0..n-1 (anything >= maxPrice when n == 0); returns
    ///         the new tree.
    /// @dev The new leaf has the highest index, so it wins an ancestor only if strictly higher
    ///      than that ancestor's winner so far (ties go left). Going up, the ancestors' winners
    ///      so far only get higher (each ancestor's bids include the one below's): the leaf
    ///      wins exactly the lowest k of its 6 ancestors, and k (0..6) is found by a binary
    ///      search over the levels, reading at most 3 prices instead of up to 6 one by one. An
    ///      ancestor whose bids so far are none (its first leaf is n) is won without a read.
    ///      Of the k ancestors won, those where the leaf is a right child take bit 1; where it
    ///      is a left child the right side is empty and the bit stays 0; every node above k
    ///      keeps its winner. A price <= `lowest` wins nothing: no read.
    function insert(uint256 tree, Bid[64] storage bids, uint256 n, uint256 price, uint256 lowest)
        internal
        view
        returns (uint256 result)
    {
        assembly ("memory-safe") {
            result := tree
            if gt(price, lowest) {
                let base := bids.slot
                let leaf := add(MAX_BIDS, n)
                // Binary search for k in [lo, hi]: probe level mid, i.e. whether price beats the
                // winner so far of the ancestor at level mid (read only if that ancestor has bids
                // so far: n mod 2^mid != 0). Probes levels 3, then 1 and 2, or 5 and 4 or 6.
                let lo := 0
                let hi := 6
                for {} lt(lo, hi) {} {
                    let mid := shr(1, add(add(lo, hi), 1))
                    let won := 1
                    if and(n, sub(shl(mid, 1), 1)) {
                        let w := shr(mid, leaf)
                        // mid steps down to the winning leaf
                        for {} lt(w, 16) {} {
                            w := add(add(w, w), and(shr(w, tree), 1))
                            w := add(add(w, w), and(shr(w, tree), 1))
                        }
                        if lt(w, 32) { w := add(add(w, w), and(shr(w, tree), 1)) }
                        if lt(w, 64) { w := add(add(w, w), and(shr(w, tree), 1)) }
                        won := gt(price, shr(160, sload(add(base, sub(w, 64)))))
                    }
                    switch won
                    case 0 { hi := sub(mid, 1) }
                    default { lo := mid }
                }
                // the won ancestors where the leaf is a right child take bit 1
                let right := and(n, sub(shl(lo, 1), 1))
                if and(right, 1) { result := or(result, shl(shr(1, leaf), 1)) }
                if and(right, 2) { result := or(result, shl(shr(2, leaf), 1)) }
                if and(right, 4) { result := or(result, shl(shr(3, leaf), 1)) }
                if and(right, 8) { result := or(result, shl(shr(4, leaf), 1)) }
                if and(right, 16) { result := or(result, shl(shr(5, leaf), 1)) }
                if and(right, 32) { result := or(result, shl(shr(6, leaf), 1)) }
            }
        }
    }

    /// @notice Bid index `i` now has `price` (an eviction wrote a lower bid there), with `n`
    ///         bids in all; returns the new tree.
    /// @dev Walks up from leaf i, comparing the current winner with each non-empty sibling
    ///      subtree's winner and setting the parent's bit: one price read per level. (The
    ///      siblings' winners were never compared with each other, so each must be read.)
    function update(uint256 tree, Bid[64] storage bids, uint256 n, uint256 i, uint256 price)
        internal
        view
        returns (uint256 result)
    {
        assembly ("memory-safe") {
            let base := bids.slot
            let v := add(MAX_BIDS, i)
            // v = the ancestor at height h, s = its sibling; an empty sibling is a right one (its
            // first leaf s * 2^h >= n) and its parent's bit stays 0. Ties go left: the right
            // side wins only if strictly higher. The winner's price goes on up.
            for { let h := 0 } gt(v, 1) { h := add(h, 1) } {
                let s := xor(v, 1)
                if lt(sub(shl(h, s), 64), n) {
                    let w := s
                    // h steps down to its winning leaf
                    for {} lt(w, 16) {} {
                        w := add(add(w, w), and(shr(w, tree), 1))
                        w := add(add(w, w), and(shr(w, tree), 1))
                    }
                    if lt(w, 32) { w := add(add(w, w), and(shr(w, tree), 1)) }
                    if lt(w, 64) { w := add(add(w, w), and(shr(w, tree), 1)) }
                    let other := shr(160, sload(add(base, sub(w, 64))))
                    let bit := shl(shr(1, v), 1)
                    switch and(v, 1)
                    case 0 {
                        switch gt(other, price)
                        case 0 { tree := and(tree, not(bit)) }
                        default {
                            tree := or(tree, bit)
                            price := other
                        }
                    }
                    default {
                        switch gt(price, other)
                        case 0 {
                            tree := and(tree, not(bit))
                            price := other
                        }
                        default { tree := or(tree, bit) }
                    }
                }
                v := shr(1, v)
            }
            result := tree
        }
    }
}
