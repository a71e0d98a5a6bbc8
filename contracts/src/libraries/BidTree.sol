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
///      no storage access: only the prices compared are read, one per level at most (<= 6).
library BidTree {
    /// @notice The most bids a tree holds (6 levels).
    uint256 internal constant MAX_BIDS = 64;

    /// @notice A bid in storage: one slot.
    struct Bid {
        address provider;
        uint96 price;
    }

    /// @notice The index of the highest bid (ties to the lowest index); 0 for an empty tree.
    function highest(uint256 tree) internal pure returns (uint256) {
        return _winner(tree, 1);
    }

    /// @notice Adds bid index `n` (the current bid count) at `price`; returns the new tree.
    /// @dev Walks up from leaf n. Where it is a left child, its sibling subtree is empty: it
    ///      wins without a comparison and the bit stays 0. Where it is a right child, it meets
    ///      the left subtree's winner: it takes the node (bit 1) if strictly higher, else the
    ///      node's winner is unchanged and so is every ancestor's: stop. So bids in falling
    ///      price order compare once, rising ones up to 6 times.
    function insert(uint256 tree, Bid[64] storage bids, uint256 n, uint256 price) internal view returns (uint256) {
        unchecked {
            uint256 v = MAX_BIDS + n;
            while (v > 1) {
                uint256 parent = v >> 1;
                if (v & 1 == 1) {
                    if (price <= _price(bids, _winner(tree, v - 1))) return tree;
                    tree |= 1 << parent;
                }
                v = parent;
            }
            return tree;
        }
    }

    /// @notice Bid index `i` now has `price` (an eviction wrote a lower bid there), with `n`
    ///         bids in all; returns the new tree.
    /// @dev Walks up from leaf i, comparing the current winner with each non-empty sibling
    ///      subtree's winner and setting the parent's bit: one price read per level.
    function update(uint256 tree, Bid[64] storage bids, uint256 n, uint256 i, uint256 price)
        internal
        view
        returns (uint256)
    {
        unchecked {
            uint256 v = MAX_BIDS + i;
            uint256 height;
            while (v > 1) {
                uint256 parent = v >> 1;
                uint256 sibling = v ^ 1;
                // the sibling's first leaf: an empty sibling is a right one, and its parent's bit is 0
                if ((sibling << height) - MAX_BIDS < n) {
                    uint256 other = _price(bids, _winner(tree, sibling));
                    bool right = v & 1 == 1;
                    bool fromRight = right ? price > other : other > price;
                    if (fromRight) tree |= 1 << parent;
                    else tree &= ~(1 << parent);
                    if (fromRight != right) price = other; // the sibling's winner goes on up
                }
                v = parent;
                ++height;
            }
            return tree;
        }
    }

    /// @dev The leaf that wins node v: follow the bits down.
    function _winner(uint256 tree, uint256 v) private pure returns (uint256 w) {
        assembly ("memory-safe") {
            for {} lt(v, MAX_BIDS) {} {
                v := add(add(v, v), and(shr(v, tree), 1))
            }
            w := sub(v, MAX_BIDS)
        }
    }

    /// @dev The price of bid `i` (< 64), read straight from its slot (the top 96 bits).
    function _price(Bid[64] storage bids, uint256 i) private view returns (uint256 price) {
        assembly ("memory-safe") {
            price := shr(160, sload(add(bids.slot, i)))
        }
    }
}
