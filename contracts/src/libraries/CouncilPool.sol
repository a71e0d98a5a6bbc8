// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Checkpoints} from "@openzeppelin/contracts/utils/structs/Checkpoints.sol";

/// @title CouncilPool
/// @notice The council pool of one model: up to CAPACITY (256) members, each at a position
///         0..255 with a weight (ProviderRegistry: its active stake), readable AS OF ANY PAST
///         BLOCK, and a weighted draw without replacement over the pool as it stood at a block.
/// @dev Every figure is an OpenZeppelin `Checkpoints.Trace208` keyed by block number, so a
///      lookup at block b returns the value at the END of block b (the last push with key <= b):
///        - `tree[1..256]`: a Fenwick (binary indexed) tree of the position weights; node i
///          holds the sum of positions (i - (i & -i)) .. i - 1 (0-based). Node 256 spans every
///          position: it IS the pool's total, so no separate total trace is kept.
///        - `weight[p]`: position p's weight; `owner[p]`: uint160 of position p's member, 0 free.
///      A weight change at position p pushes p's leaf and the <= 9 Fenwick nodes above it; a
///      draw descends the tree at the given block: 8 lookups, plus the drawn leaf and owner.
///      Positions come from a free list (LIFO), so a position is reused by a later member; its
///      owner trace keeps who held it when. The library checks no membership rules (the host
///      does: one position per member, capacity, who may join) and reverts with nothing of its
///      own except the `internal` arithmetic checks.
library CouncilPool {
    using Checkpoints for Checkpoints.Trace208;

    /// @notice Positions per pool.
    uint256 internal constant CAPACITY = 256;

    /// @notice One model's pool.
    /// @param tree Fenwick nodes 1..256 (index 0 unused); node 256 is the total.
    /// @param weight Weight per position.
    /// @param owner uint160(member) per position; 0 while free.
    /// @param positionOf A current member's position + 1; 0 for a non-member.
    /// @param used Positions handed out so far (the free list holds the released ones).
    /// @param members Current members.
    /// @param free Released positions, reused last in, first out.
    struct Pool {
        Checkpoints.Trace208[257] tree;
        Checkpoints.Trace208[256] weight;
        Checkpoints.Trace208[256] owner;
        mapping(address member => uint256) positionOf;
        uint16 used;
        uint16 members;
        uint16[] free;
    }

    /// @notice The state of one weighted draw without replacement (in memory).
    /// @dev `starts`/`widths`: the intervals [start, start + width) of the members drawn so far,
    ///      sorted by start (ascending), in the pool's cumulative weight line at `atBlock`;
    ///      `count` of them are used. `remaining` = total - sum(widths).
    struct Sampler {
        uint48 atBlock;
        bytes32 seed;
        uint256 draws;
        uint256 remaining;
        uint256 count;
        uint256[] starts;
        uint256[] widths;
    }

    // ------------------------------------------------------------------ membership

    /// @notice Whether `member` is in the pool now.
    function isMember(Pool storage self, address member) internal view returns (bool) {
        return self.positionOf[member] != 0;
    }

    /// @notice `member`'s current position (meaningful only for a member).
    function currentPosition(Pool storage self, address member) internal view returns (uint256) {
        return self.positionOf[member] - 1;
    }

    /// @notice Whether every position is taken.
    function isFull(Pool storage self) internal view returns (bool) {
        return self.members == CAPACITY;
    }

    /// @notice Adds `member` (not yet a member; the pool not full) with `weight`.
    /// @return position The position it got: a released one if any, else the next unused one.
    function join(Pool storage self, address member, uint256 weight) internal returns (uint256 position) {
        uint256 freeCount = self.free.length;
        if (freeCount != 0) {
            position = self.free[freeCount - 1];
            self.free.pop();
        } else {
            position = self.used;
            self.used = uint16(position + 1); // <= CAPACITY: the host checks isFull first
        }
        self.positionOf[member] = position + 1;
        self.members += 1;
        uint48 key = _now();
        self.owner[position].push(key, uint160(member));
        if (weight != 0) {
            self.weight[position].push(key, uint208(weight));
            _add(self, position, 0, weight, key);
        }
    }

    /// @notice Removes `member` (a member): its position's weight and owner become 0 from this
    ///         block on, and the position goes to the free list.
    /// @return position The position it held.
    function leave(Pool storage self, address member) internal returns (uint256 position) {
        position = self.positionOf[member] - 1;
        uint48 key = _now();
        uint256 weight = self.weight[position].latest();
        if (weight != 0) {
            self.weight[position].push(key, 0);
            _add(self, position, weight, 0, key);
        }
        self.owner[position].push(key, 0);
        delete self.positionOf[member];
        self.members -= 1;
        self.free.push(uint16(position));
    }

    /// @notice Sets `member`'s (a member's) weight from this block on.
    /// @return changed False when the weight already was `weight` (nothing written).
    function setWeight(Pool storage self, address member, uint256 weight) internal returns (bool changed) {
        uint256 position = self.positionOf[member] - 1;
        uint256 previous = self.weight[position].latest();
        if (previous == weight) return false;
        uint48 key = _now();
        self.weight[position].push(key, uint208(weight));
        _add(self, position, previous, weight, key);
        return true;
    }

    // ------------------------------------------------------------------ history

    /// @notice Position `position`'s weight at the end of block `blockNumber`.
    function weightAt(Pool storage self, uint256 position, uint48 blockNumber) internal view returns (uint256) {
        return self.weight[position].upperLookupRecent(blockNumber);
    }

    /// @notice Position `position`'s member at the end of block `blockNumber` (0 when free).
    function ownerAt(Pool storage self, uint256 position, uint48 blockNumber) internal view returns (address) {
        return address(uint160(self.owner[position].upperLookupRecent(blockNumber)));
    }

    /// @notice The pool's total weight at the end of block `blockNumber`.
    function totalAt(Pool storage self, uint48 blockNumber) internal view returns (uint256) {
        return self.tree[CAPACITY].upperLookupRecent(blockNumber);
    }

    // ------------------------------------------------------------------ draw

    /// @notice Starts a draw over the pool as of `atBlock` with randomness `seed`, able to draw
    ///         up to `maxDraws` members.
    function sampler(Pool storage self, uint48 atBlock, bytes32 seed, uint256 maxDraws)
        internal
        view
        returns (Sampler memory s)
    {
        s.atBlock = atBlock;
        s.seed = seed;
        s.remaining = totalAt(self, atBlock);
        s.starts = new uint256[](maxDraws);
        s.widths = new uint256[](maxDraws);
    }

    /// @notice Draws the next member: with probability weight / (total - weight already drawn)
    ///         among the members not yet drawn, all as of `s.atBlock`; then removes it from the
    ///         draw. Draw k uses u = keccak256(abi.encode(seed, k)) mod remaining.
    /// @return found False when the pool is exhausted (or `maxDraws` were drawn).
    /// @return member The member drawn.
    function next(Pool storage self, Sampler memory s) internal view returns (bool found, address member) {
        uint256 count = s.count;
        if (s.remaining == 0 || count == s.starts.length) return (false, address(0));
        uint256 u = uint256(keccak256(abi.encode(s.seed, s.draws))) % s.remaining;
        unchecked {
            s.draws += 1;
            // Map u from [0, remaining) onto the weight line minus the drawn intervals: for each
            // interval in ascending order, a u at or past its start moves past it. Exact: every
            // point not drawn has the same chance.
            uint256 insertAt = count;
            for (uint256 k; k < count; ++k) {
                if (u < s.starts[k]) {
                    insertAt = k;
                    break;
                }
                u += s.widths[k];
            }
            // Fenwick descent at atBlock: the largest pos with prefix(pos) <= u. u < total, so
            // node 256 (the total) is never taken: start one level below.
            uint256 pos;
            uint256 rem = u;
            for (uint256 step = CAPACITY >> 1; step != 0; step >>= 1) {
                uint256 value = self.tree[pos + step].upperLookupRecent(s.atBlock);
                if (value <= rem) {
                    pos += step;
                    rem -= value;
                }
            }
            // prefix(pos) <= u < prefix(pos + 1): u falls in position pos, whose interval is
            // [u - rem, u - rem + weight). It lies after the intervals before insertAt and
            // before the others (it is disjoint from them).
            uint256 width = self.weight[pos].upperLookupRecent(s.atBlock);
            member = address(uint160(self.owner[pos].upperLookupRecent(s.atBlock)));
            for (uint256 k = count; k > insertAt; --k) {
                s.starts[k] = s.starts[k - 1];
                s.widths[k] = s.widths[k - 1];
            }
            s.starts[insertAt] = u - rem;
            s.widths[insertAt] = width;
            s.count = count + 1;
            s.remaining -= width;
        }
        return (true, member);
    }

    // ------------------------------------------------------------------ internal

    /// @dev Moves position `position`'s Fenwick nodes from weight `previous` to `weight`.
    function _add(Pool storage self, uint256 position, uint256 previous, uint256 weight, uint48 key) private {
        unchecked {
            for (uint256 i = position + 1; i <= CAPACITY; i += i & (~i + 1)) {
                Checkpoints.Trace208 storage node = self.tree[i];
                uint256 value = node.latest();
                // The node sums this position's weight, so value >= previous: no underflow.
                node.push(key, uint208(weight > previous ? value + (weight - previous) : value - (previous - weight)));
            }
        }
    }

    function _now() private view returns (uint48) {
        return uint48(block.number);
    }
}
