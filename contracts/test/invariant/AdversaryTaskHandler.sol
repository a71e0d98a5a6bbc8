// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {CommonBase} from "../utils/Test.sol";
import {OGPUToken} from "../../src/OGPUToken.sol";
import {ProviderRegistry} from "../../src/ProviderRegistry.sol";
import {ITaskMarket} from "../../src/interfaces/ITaskMarket.sol";

/// @notice Plays attack 1 of issue 12 against TaskMarket for the adversarial invariant campaign
///         (TaskMarketAdversary.invariant.t.sol). Eight registered providers, all in the council
///         pool of the one model the client's tasks name:
///           - providers 0-2, the Sybils (one attacker with 3/8 of the stake): the moment a task is
///             submitted they bid its max price into every bid slot they can and race `assign`
///             (which must fail before the minimum open time); now and then one undercuts every
///             honest bid to become the executor. As executor a Sybil commits garbage result
///             roots; on a council they collude: accept a Sybil's garbage, reject honest work,
///             and sometimes do not reveal at all.
///           - providers 3-6, honest: they bid their cost on every task they see (if it fits
///             under the highest held bid), commit the right root on time, and commit and reveal
///             the truth as council members. Honest daemons also finalize what is ready.
///           - provider 7, lazy: bids just above the cheapest honest provider and executes truthfully, but as a
///             council member commits and never reveals.
///         Councils are seated from the pool (every daemon pokes seatCouncil a block after the
///         draw block); the handler checks each seating: pool members only, distinct, never the
///         executor or the client. The Sybils keep their stake between 500 and 1,000 oGPU (the
///         honest ones have 1,000 each): at most 3/8 of the pool's weight.
///         Honest duties run at the start of every call (honest daemons react within a block or
///         two): warp moves at most 30 s and every window is >= 120 s (the minimum open time
///         60 s), so an honest provider never misses a window and always gets to bid before a
///         task can be assigned. Everything else is the adversary's choice. Every input is
///         bounded and every impossible action skipped: fail_on_revert stays on.
///         Ghosts: each task's escrow in and out; each honest provider's stake in, and what it
///         lost to councils that the honest seats did not hold a strict majority of (captures);
///         every council judged, by composition; flags for every rule broken.
contract AdversaryTaskHandler is CommonBase {
    uint256 public constant MAX_TASKS = 12;
    uint256 public constant MAX_ACTIVE = 3;
    uint256 public constant SYBILS = 3;
    uint256 internal constant HONEST_FIRST = 3;
    uint256 internal constant LAZY = 7;
    uint256 internal constant PROVIDERS = 8;
    uint256 internal constant SYBIL_MIN_STAKE = 500e18;
    uint256 internal constant SYBIL_MAX_STAKE = 1_000e18;

    ITaskMarket public immutable market;
    ProviderRegistry public immutable registry;
    OGPUToken public immutable token;
    address public immutable admin;
    address public immutable client;
    bytes32 public immutable model;

    address[] public providers;
    uint256[] public tasks;
    mapping(uint256 taskId => address[]) internal _bidders;
    /// @notice The block whose hash seeds each task's next council draw (as the market set it).
    mapping(uint256 taskId => uint256) public drawBlockOf;

    uint256 public currentTime;
    uint256 public currentBlock;

    // ---------------------------------------------------------------- ghosts: money
    mapping(uint256 taskId => uint256) public ghostEscrowed;
    mapping(uint256 taskId => uint256) public ghostPaidOut;
    mapping(uint256 taskId => uint256) public ghostExecutorPaid;
    /// @notice Stake each honest provider put in (initial stake plus top-ups; honest ones never unstake).
    mapping(address => uint256) public ghostHonestStaked;
    /// @notice Stake an honest provider lost to a rejection by a captured council.
    mapping(address => uint256) public ghostCapturedLoss;

    // ---------------------------------------------------------------- ghosts: bidding
    /// @notice Lowest price an honest provider bid on the task (max when none).
    mapping(uint256 taskId => uint256) public ghostMinHonestBid;

    // ---------------------------------------------------------------- ghosts: councils
    /// @notice Checkpoint rounds judged; of them with a Sybil strict majority; with the honest
    ///         seats short of a strict majority (captured, lazy seats counted against honesty).
    uint256 public councilsJudged;
    uint256 public sybilMajorities;
    uint256 public captures;
    uint256 public seatsHonest;
    uint256 public seatsSybil;
    uint256 public seatsLazy;
    uint256 public garbageJudged;
    uint256 public garbageRejected;
    uint256 public garbageAccepted;
    uint256 public honestJudged;
    uint256 public honestSlashedByCapture;
    uint256 public lazySlashes;
    uint256 public sybilExecutions;
    uint256 public honestExecutions;
    uint256 public earlyAssignsRefused;
    uint256 public evictionsOfSybils;
    /// @notice Councils seated from the pool, their seats by kind, and undecided rounds re-drawn.
    uint256 public councilsSeated;
    uint256 public seatedHonest;
    uint256 public seatedSybil;
    uint256 public seatedLazy;
    uint256 public redraws;
    /// @notice Tasks failed by a second undecided round (executor not slashed).
    uint256 public undecidedFailures;

    /// @notice Set when a rule of issue 12 broke; `broken` says which.
    bool public ghostBroken;
    string public broken;

    mapping(bytes32 => uint256) public done;

    constructor(
        ITaskMarket market_,
        ProviderRegistry registry_,
        OGPUToken token_,
        address admin_,
        address client_,
        address[] memory providers_,
        bytes32 model_
    ) {
        market = market_;
        registry = registry_;
        token = token_;
        admin = admin_;
        client = client_;
        model = model_;
        require(providers_.length == PROVIDERS, "8 providers");
        providers = providers_;
        for (uint256 i = HONEST_FIRST; i < LAZY; ++i) {
            ghostHonestStaked[providers_[i]] = registry_.stakeOf(providers_[i]).staked;
        }
        currentTime = block.timestamp;
        currentBlock = block.number;
    }

    // ================================================================== roles

    function isSybil(address p) public view returns (bool) {
        return p == providers[0] || p == providers[1] || p == providers[2];
    }

    function isHonest(address p) public view returns (bool) {
        for (uint256 i = HONEST_FIRST; i < LAZY; ++i) {
            if (providers[i] == p) return true;
        }
        return false;
    }

    function isLazy(address p) public view returns (bool) {
        return p == providers[LAZY];
    }

    function correctRoot(uint256 taskId, uint256 k) public pure returns (bytes32) {
        return keccak256(abi.encode("correct", taskId, k));
    }

    function garbageRoot(uint256 taskId, uint256 k) public pure returns (bytes32) {
        return keccak256(abi.encode("garbage", taskId, k));
    }

    /// @dev An honest provider's cost: 0.1 % to 0.4 % of the max price (attack 1: 0.048 vs 40).
    function honestPrice(ITaskMarket.Task memory t, address p) public view returns (uint256) {
        for (uint256 i = HONEST_FIRST; i < LAZY; ++i) {
            if (providers[i] == p) return t.maxPrice / 1000 * (i - HONEST_FIRST + 1) + 1;
        }
        return t.maxPrice / 1000 + 2; // lazy: just above the cheapest honest bid (so it sits on councils)
    }

    // ================================================================== views for the tests

    function taskCount() external view returns (uint256) {
        return tasks.length;
    }

    function biddersOf(uint256 taskId) external view returns (address[] memory) {
        return _bidders[taskId];
    }

    function providerCount() external pure returns (uint256) {
        return PROVIDERS;
    }

    // ================================================================== picking

    enum Want {
        Biddable,
        Assignable,
        Expirable,
        Committable,
        Voting,
        Finalizable,
        TimedOut,
        Seatable
    }

    function _pick(uint256 seed, Want want) internal view returns (bool, uint256, ITaskMarket.Task memory t) {
        uint256 n = tasks.length;
        for (uint256 i; i < n; ++i) {
            uint256 id = tasks[(seed % n + i) % n];
            t = market.getTask(id);
            if (_eligible(want, id, t)) return (true, id, t);
        }
        return (false, 0, t);
    }

    function _eligible(Want want, uint256 id, ITaskMarket.Task memory t) internal view returns (bool) {
        uint256 nowTs = block.timestamp;
        if (t.status == ITaskMarket.Status.Open) {
            if (want == Want.Biddable) return nowTs < t.biddingEnd;
            if (want == Want.Assignable) {
                return nowTs >= t.assignableAt
                    && (t.bidCount == t.maxBids || (nowTs >= t.biddingEnd && t.bidCount >= 1));
            }
            if (want == Want.Expirable) return nowTs >= t.biddingEnd && t.bidCount == 0;
            return false;
        }
        if (t.status != ITaskMarket.Status.Assigned) return false;
        // councils come from the pool, seated (by anyone: the honest daemons) a block after the draw block
        if (!t.councilSeated) return want == Want.Seatable && block.number > drawBlockOf[id];
        if (!t.voting) {
            if (want == Want.Committable) return nowTs < t.deadline;
            if (want == Want.TimedOut) return nowTs >= t.deadline;
            return false;
        }
        if (want == Want.Voting) return true;
        if (want != Want.Finalizable) return false;
        ITaskMarket.Checkpoint memory cp = market.checkpointOf(id, t.nextCheckpoint);
        return nowTs >= cp.revealEnd || cp.reveals == t.councilCount;
    }

    function _active() internal view returns (uint256 n) {
        for (uint256 i; i < tasks.length; ++i) {
            ITaskMarket.Status st = market.getTask(tasks[i]).status;
            if (st == ITaskMarket.Status.Open || st == ITaskMarket.Status.Assigned) ++n;
        }
    }

    // ================================================================== honest duties

    /// @dev What honest daemons (and the lazy one, as far as it does anything) do at once:
    ///      bid, commit the right root, commit and reveal the truth, finalize what is ready.
    modifier act() {
        vm.warp(currentTime);
        vm.roll(currentBlock);
        _honestDuties();
        _;
    }

    function _honestDuties() internal {
        for (uint256 i; i < tasks.length; ++i) {
            uint256 id = tasks[i];
            ITaskMarket.Task memory t = market.getTask(id);
            if (t.status == ITaskMarket.Status.Open && block.timestamp < t.biddingEnd) {
                for (uint256 j = HONEST_FIRST; j < PROVIDERS; ++j) {
                    _honestBid(id, providers[j]);
                }
            } else if (_eligible(Want.Seatable, id, t)) {
                _seat(id);
            } else if (t.status == ITaskMarket.Status.Assigned && t.councilSeated) {
                _honestWork(id, t);
            }
        }
    }

    /// @dev Seats a task's council from the pool (or re-anchors its draw, or fails it NoCouncil).
    function _seat(uint256 id) internal {
        _settled(id, market.getTask(id).executor, abi.encodeCall(ITaskMarket.seatCouncil, (id)));
        ITaskMarket.Task memory t = market.getTask(id);
        if (t.status == ITaskMarket.Status.Assigned && !t.councilSeated) drawBlockOf[id] = block.number; // re-anchored
        done[t.councilSeated ? bytes32("seated") : bytes32("notSeated")]++;
        if (!t.councilSeated) return;
        address[] memory council = market.councilOf(id);
        councilsSeated++;
        for (uint256 s; s < council.length; ++s) {
            address m = council[s];
            if (m == t.executor || m == client) _break("executor or client seated on its council");
            (bool member,) = registry.councilPositionOf(model, m);
            if (!member) _break("a council member outside the pool");
            for (uint256 o; o < s; ++o) {
                if (council[o] == m) _break("a member seated twice");
            }
            if (isHonest(m)) seatedHonest++;
            else if (isSybil(m)) seatedSybil++;
            else seatedLazy++;
        }
        try market.seatCouncil(id) {
            _break("a council was seated twice");
        } catch {}
    }

    function _highest(uint256 id, uint256 bids) internal view returns (uint256 highest) {
        for (uint256 i; i < bids; ++i) {
            uint256 bp = market.getBid(id, i).price;
            if (bp > highest) highest = bp;
        }
    }

    function _honestBid(uint256 id, address p) internal {
        if (market.lockedFor(id, p) != 0) return;
        ITaskMarket.Task memory t = market.getTask(id);
        uint256 price = honestPrice(t, p);
        address evicted;
        if (t.bidCount == t.maxBids) {
            (uint256 highest, address holder) = _highestBid(id, t.bidCount);
            if (price >= highest) return; // does not fit: the held bids are all cheaper
            evicted = holder;
        }
        if (!_ensureFree(p, t.collateral)) return;
        vm.prank(p);
        market.bid(id, price);
        _listBidder(id, p);
        if (isHonest(p) && price < ghostMinHonestBid[id]) ghostMinHonestBid[id] = price;
        if (isSybil(evicted)) evictionsOfSybils++;
        done[evicted == address(0) ? bytes32("honestBid") : bytes32("honestEvicts")]++;
    }

    function _highestBid(uint256 id, uint256 bids) internal view returns (uint256 highest, address holder) {
        // The tree evicts the highest, ties to the latest index; the handler only needs the price
        // and a holder to count Sybil evictions, which ties between Sybils do not change.
        for (uint256 i; i < bids; ++i) {
            ITaskMarket.Bid memory b = market.getBid(id, i);
            if (b.price >= highest) (highest, holder) = (b.price, b.provider);
        }
    }

    function _honestWork(uint256 id, ITaskMarket.Task memory t) internal {
        uint256 k = t.nextCheckpoint;
        if (!t.voting) {
            if (!isSybil(t.executor) && block.timestamp < t.deadline) {
                vm.prank(t.executor);
                market.commitCheckpoint(id, k, correctRoot(id, k));
                done["honestCommit"]++;
            }
            return;
        }
        bool right = market.checkpointOf(id, k).resultRoot == correctRoot(id, k);
        address[] memory council = market.councilOf(id);
        // two passes: every commit first (all committed opens the reveal phase), then reveals
        for (uint256 pass; pass < 2; ++pass) {
            for (uint256 s; s < council.length; ++s) {
                address v = council[s];
                if (!isSybil(v)) _vote(id, t, v, right, isHonest(v)); // the lazy one never reveals
            }
        }
        ITaskMarket.Checkpoint memory cp = market.checkpointOf(id, k);
        if (block.timestamp >= cp.revealEnd || cp.reveals == t.councilCount) _finalize(id, market.getTask(id));
    }

    /// @dev `v`'s next step on the open round, if the phase allows one: commit `accept`
    ///      (returns 1), or reveal it if `reveals` (returns 2); 0 when nothing to do.
    function _vote(uint256 id, ITaskMarket.Task memory t, address v, bool accept, bool reveals)
        internal
        returns (uint8)
    {
        uint256 k = t.nextCheckpoint;
        ITaskMarket.Checkpoint memory cp = market.checkpointOf(id, k);
        ITaskMarket.Verdict memory vd = market.verdictOf(id, k, v);
        if (!vd.committed) {
            if (block.timestamp >= cp.commitEnd) return 0;
            _commitAs(id, k, v, accept);
            return 1;
        }
        bool revealing = (block.timestamp >= cp.commitEnd || cp.commits == t.councilCount) && block.timestamp < cp.revealEnd;
        if (!reveals || vd.revealed || !revealing) return 0;
        _revealAs(id, k, v, accept);
        return 2;
    }

    // ================================================================== the client

    /// @notice The client submits a task; in the same block the Sybils fill every bid slot they
    ///         can at the max price (or one undercuts everybody at price 0) and race `assign`.
    function submit(uint256 seed, uint256 sybilMode) external act {
        if (tasks.length >= MAX_TASKS || _active() >= MAX_ACTIVE) return;
        ITaskMarket.TaskParams memory p = _params(seed);
        uint256 escrow = p.maxPrice + p.councilFeePerVote * p.councilSize * p.checkpoints;
        if (token.balanceOf(client) < escrow) {
            vm.prank(admin);
            token.mint(client, escrow);
        }
        uint256 before = token.balanceOf(address(market));
        vm.prank(client);
        uint256 id = market.submit(p);
        tasks.push(id);
        ghostEscrowed[id] = token.balanceOf(address(market)) - before;
        ghostMinHonestBid[id] = type(uint256).max;
        done["submit"]++;
        _sybilsRush(id, sybilMode);
    }

    function _params(uint256 seed) internal view returns (ITaskMarket.TaskParams memory p) {
        uint256[10] memory r;
        for (uint256 i; i < r.length; ++i) {
            r[i] = uint256(keccak256(abi.encode(seed, i)));
        }
        p.specHash = keccak256(abi.encode("spec", seed));
        p.specUri = "ipfs://spec";
        p.dataRoot = keccak256(abi.encode("data", seed));
        p.modelHash = model;
        p.itemCount = uint32(1 + r[0] % 12);
        p.checkpoints = uint8(1 + r[1] % (p.itemCount < 3 ? p.itemCount : 3));
        p.councilSize = uint8(1 + r[2] % 3);
        p.maxBids = uint8(p.councilSize + 1 + r[3] % 3);
        p.maxPrice = 1e18 + r[4] % 40e18;
        p.councilFeePerVote = r[5] % 1e18;
        p.collateral = 1e18 + r[6] % 10e18;
        p.biddingWindow = uint32(300 + r[7] % 900);
        p.checkpointWindow = uint32(120 + r[8] % 600);
        p.commitWindow = uint32(120 + r[9] % 240);
        p.revealWindow = uint32(120 + (r[9] >> 64) % 240);
    }

    /// @dev Sybils bid into every free slot: the max price (attack 1), or, 1 time in 4, the
    ///      first one at 0 to undercut every honest bid; then one of them tries to assign at once.
    function _sybilsRush(uint256 id, uint256 mode) internal {
        ITaskMarket.Task memory t = market.getTask(id);
        bool undercut = mode % 4 == 0;
        for (uint256 i; i < SYBILS; ++i) {
            t = market.getTask(id);
            if (t.bidCount == t.maxBids) break;
            address s = providers[i];
            if (!_ensureFree(s, t.collateral)) continue;
            vm.prank(s);
            market.bid(id, undercut && i == 0 ? 0 : t.maxPrice);
            _listBidder(id, s);
            done["sybilBid"]++;
        }
        if (market.getTask(id).bidCount != t.maxBids) return;
        // the cap is reached: only the minimum open time stands between the Sybils and assign
        vm.prank(providers[mode % SYBILS]);
        try market.assign(id) {
            _break("assigned before the minimum open time");
        } catch {
            earlyAssignsRefused++;
        }
    }

    // ================================================================== the Sybils

    /// @notice Sybils that did not bid yet (or were evicted) bid again: the max price if a slot
    ///         is free, or just under the highest held bid at the cap.
    function sybilBid(uint256 taskSeed, uint256 who, uint256 price) external act {
        (bool ok, uint256 id, ITaskMarket.Task memory t) = _pick(taskSeed, Want.Biddable);
        if (!ok) return;
        address s = providers[who % SYBILS];
        if (market.lockedFor(id, s) != 0) return;
        uint256 ceiling = t.maxPrice;
        if (t.bidCount == t.maxBids) {
            uint256 highest = _highest(id, t.bidCount);
            vm.prank(s);
            try market.bid(id, highest) {
                _break("a bid at the highest price got in at the cap");
            } catch {}
            if (highest == 0) return;
            ceiling = highest - 1;
        }
        if (!_ensureFree(s, t.collateral)) return;
        vm.prank(s);
        market.bid(id, bound(price, 0, ceiling));
        _listBidder(id, s);
        done["sybilBid"]++;
    }

    /// @notice A Sybil executor commits a garbage root (the one cheat it is there for).
    function sybilCommit(uint256 taskSeed) external act {
        (bool ok, uint256 id, ITaskMarket.Task memory t) = _pick(taskSeed, Want.Committable);
        if (!ok || !isSybil(t.executor)) return;
        uint256 k = t.nextCheckpoint;
        vm.prank(t.executor);
        market.commitCheckpoint(id, k, garbageRoot(id, k));
        done["garbageCommit"]++;
    }

    /// @notice The Sybils on a council collude: accept a Sybil executor's work, reject an
    ///         honest one's; `mode` picks commit or reveal, and whether to reveal at all.
    function collude(uint256 taskSeed, uint256 mode) external act {
        (bool ok, uint256 id, ITaskMarket.Task memory t) = _pick(taskSeed, Want.Voting);
        if (!ok) return;
        bool accept = isSybil(t.executor);
        address[] memory council = market.councilOf(id);
        for (uint256 s; s < council.length; ++s) {
            if (!isSybil(council[s])) continue;
            uint8 did = _vote(id, t, council[s], accept, mode % 5 != 0);
            if (did == 1) done["colludeCommit"]++;
            if (did == 2) done["colludeReveal"]++;
        }
    }

    // ================================================================== anyone

    /// @notice Anyone (a Sybil racing, in attack 1) assigns a task that may be assigned.
    function assign(uint256 taskSeed, bytes32 randao) external act {
        (bool ok, uint256 id, ITaskMarket.Task memory t) = _pick(taskSeed, Want.Assignable);
        if (!ok) return;
        vm.prevrandao(randao);
        vm.prank(providers[uint256(randao) % SYBILS]);
        market.assign(id);
        t = market.getTask(id);
        // Bids that cannot be crowded out: every honest bid was placed before the minimum open
        // time, and a held bid only leaves when a cheaper one evicts it.
        if (t.price > ghostMinHonestBid[id]) _break("executor dearer than an honest bid");
        drawBlockOf[id] = block.number;
        if (isSybil(t.executor)) sybilExecutions++;
        else if (isHonest(t.executor)) honestExecutions++;
        done["assign"]++;
    }

    /// @notice Anyone finalizes a round that is over, times out a late executor (only a Sybil
    ///         can be late: honest ones commit at once) or expires a task without a bid.
    function poke(uint256 taskSeed, uint256 which) external act {
        bool ok;
        uint256 id;
        ITaskMarket.Task memory t;
        which %= 3;
        if (which == 0) {
            (ok, id, t) = _pick(taskSeed, Want.Finalizable);
            if (ok) _finalize(id, t);
        } else if (which == 1) {
            (ok, id, t) = _pick(taskSeed, Want.TimedOut);
            if (ok) _timeout(id, t);
        } else {
            (ok, id, t) = _pick(taskSeed, Want.Expirable);
            if (ok) {
                _settled(id, address(0), abi.encodeCall(ITaskMarket.expire, (id)));
                done["expire"]++;
            }
        }
    }

    /// @notice A Sybil moves stake between 500 and 1,000 oGPU (its start), so the attacker never
    ///         holds more than 3/8 of the pool's weight: more (up to its start) or out (free stake only).
    function sybilStake(uint256 who, uint256 amount, bool out) external act {
        address s = providers[who % SYBILS];
        uint256 staked = registry.stakeOf(s).staked;
        if (out) {
            uint256 room = staked > SYBIL_MIN_STAKE ? staked - SYBIL_MIN_STAKE : 0;
            uint256 free = registry.freeStakeOf(s);
            amount = bound(amount, 0, free < room ? free : room);
            if (amount == 0) return;
            vm.prank(s);
            registry.requestUnstake(amount);
        } else {
            amount = bound(amount, 0, staked < SYBIL_MAX_STAKE ? SYBIL_MAX_STAKE - staked : 0);
            if (amount == 0) return;
            vm.prank(s);
            registry.stake(amount);
        }
        done["sybilStake"]++;
    }

    function warp(uint256 secs, uint256 blocks) external {
        currentTime += bound(secs, 0, 30);
        currentBlock += bound(blocks, 1, 5);
    }

    // ================================================================== settlement and the rules

    function _timeout(uint256 id, ITaskMarket.Task memory t) internal {
        if (!isSybil(t.executor)) _break("an honest executor missed its deadline");
        _settled(id, t.executor, abi.encodeCall(ITaskMarket.timeoutCheckpoint, (id)));
        done["timeout"]++;
    }

    /// @dev A council and its stakes just before its round is finalized.
    struct Before {
        address[] council;
        uint256[] stake;
        uint256[] locked;
        uint256 honest;
        uint256 sybil;
        uint256 execStake;
        uint256 execLocked;
        bool garbage;
        bool[] revealed;
    }

    /// @dev Finalizes the open round and checks issue 12's rules on its outcome.
    function _finalize(uint256 id, ITaskMarket.Task memory t) internal {
        uint256 k = t.nextCheckpoint;
        Before memory b;
        b.council = market.councilOf(id);
        b.stake = new uint256[](b.council.length);
        b.locked = new uint256[](b.council.length);
        b.revealed = new bool[](b.council.length);
        (b.honest, b.sybil) = _composition(b.council);
        for (uint256 s; s < b.council.length; ++s) {
            b.stake[s] = registry.stakeOf(b.council[s]).staked;
            b.locked[s] = market.lockedFor(id, b.council[s]);
            b.revealed[s] = market.verdictOf(id, k, b.council[s]).revealed;
        }
        b.execStake = registry.stakeOf(t.executor).staked;
        b.execLocked = market.lockedFor(id, t.executor);
        b.garbage = market.checkpointOf(id, k).resultRoot != correctRoot(id, k);

        _settled(id, t.executor, abi.encodeCall(ITaskMarket.finalizeCheckpoint, (id, k)));
        try market.finalizeCheckpoint(id, k) {
            _break("a round was finalized twice");
        } catch {}

        ITaskMarket.Task memory after_ = market.getTask(id);
        if (after_.status == ITaskMarket.Status.Assigned && !after_.councilSeated) {
            // undecided (silence, a tie): the council was released and is re-drawn; nobody but
            // the silent seats may have lost anything
            drawBlockOf[id] = block.number;
            redraws++;
            if (registry.stakeOf(t.executor).staked != b.execStake) _break("executor slashed by an undecided round");
            _judgeSeats(t, b);
            done["redrawn"]++;
            return;
        }
        ITaskMarket.Checkpoint memory closed = market.checkpointOf(id, k);
        bool rejected = closed.state != ITaskMarket.CheckpointState.Accepted;
        if (rejected && closed.rejections * 2 <= b.council.length) {
            // undecided twice (silence, a tie): the task failed with nobody but the silent seats
            // slashed, the executor's collateral released
            if (registry.stakeOf(t.executor).staked != b.execStake) _break("executor slashed by an undecided round");
            if (market.lockedFor(id, t.executor) != 0) _break("executor still locked after failing undecided");
            _judgeSeats(t, b);
            undecidedFailures++;
            done["undecidedFailed"]++;
            return;
        }
        // accepted, or rejected by a strict majority
        _judgeExecutor(t, b, rejected);
        _judgeSeats(t, b);
        done[rejected ? bytes32("rejected") : bytes32("accepted")]++;
    }

    function _judgeExecutor(ITaskMarket.Task memory t, Before memory b, bool rejected) internal {
        uint256 seats = b.council.length;
        // "Captured": the honest seats are not a strict majority (a tie rejects; lazy seats,
        // which never reveal, count against the honest ones).
        bool captured = b.honest * 2 <= seats;
        uint256 execLoss = b.execStake - registry.stakeOf(t.executor).staked;
        councilsJudged++;
        seatsHonest += b.honest;
        seatsSybil += b.sybil;
        seatsLazy += seats - b.honest - b.sybil;
        if (captured) captures++;
        if (b.sybil * 2 > seats) sybilMajorities++;
        if (b.garbage) {
            garbageJudged++;
            if (rejected) garbageRejected++;
            else garbageAccepted++;
            if (!captured && (!rejected || execLoss != b.execLocked)) {
                _break("garbage judged by an honest majority not rejected and slashed");
            }
            if (!rejected && b.sybil * 2 <= seats) _break("garbage accepted without a Sybil majority");
        } else if (isHonest(t.executor)) {
            honestJudged++;
            if (rejected) {
                if (!captured) _break("honest work rejected by an honest-majority council");
                ghostCapturedLoss[t.executor] += execLoss;
                honestSlashedByCapture++;
            } else if (execLoss != 0) {
                _break("an accepted honest executor lost stake");
            }
        }
    }

    function _judgeSeats(ITaskMarket.Task memory t, Before memory b) internal {
        for (uint256 s; s < b.council.length; ++s) {
            address v = b.council[s];
            uint256 loss = b.stake[s] - registry.stakeOf(v).staked;
            uint256 due = b.revealed[s] ? 0 : (t.nonRevealSlash < b.locked[s] ? t.nonRevealSlash : b.locked[s]);
            if (loss != due) _break("a council seat lost other than its non-reveal slash");
            if (isLazy(v) && due != 0) lazySlashes++;
            if (v == t.executor) _break("executor seated on its own council");
        }
    }

    function _composition(address[] memory council) internal view returns (uint256 honest, uint256 sybil) {
        for (uint256 s; s < council.length; ++s) {
            if (isHonest(council[s])) honest++;
            else if (isSybil(council[s])) sybil++;
        }
    }

    /// @dev Books what a settling call took out of the market (and what reached the executor).
    function _settled(uint256 id, address executor, bytes memory data) internal {
        uint256 marketBefore = token.balanceOf(address(market));
        uint256 executorBefore = executor == address(0) ? 0 : token.balanceOf(executor);
        (bool success, bytes memory ret) = address(market).call(data);
        if (!success) {
            assembly ("memory-safe") {
                revert(add(ret, 0x20), mload(ret))
            }
        }
        ghostPaidOut[id] += marketBefore - token.balanceOf(address(market));
        if (executor != address(0)) ghostExecutorPaid[id] += token.balanceOf(executor) - executorBefore;
    }

    function _ensureFree(address p, uint256 amount) internal returns (bool) {
        uint256 free = registry.freeStakeOf(p);
        if (free >= amount) return true;
        uint256 missing = amount - free;
        if (isSybil(p) || token.balanceOf(p) < missing) return false; // Sybils keep to their stake cap
        vm.prank(p);
        registry.stake(missing);
        if (isHonest(p)) ghostHonestStaked[p] += missing;
        return true;
    }

    function _listBidder(uint256 id, address p) internal {
        address[] storage list = _bidders[id];
        for (uint256 i; i < list.length; ++i) {
            if (list[i] == p) return;
        }
        list.push(p);
    }

    function _commitAs(uint256 id, uint256 k, address v, bool accept) internal {
        bytes32 c = market.verdictCommitment(id, k, accept, _salt(v, id, k), v);
        vm.prank(v);
        market.commitVerdict(id, k, c);
    }

    function _revealAs(uint256 id, uint256 k, address v, bool accept) internal {
        bytes32 salt = _salt(v, id, k);
        vm.prank(v);
        market.revealVerdict(id, k, accept, salt);
    }

    function _salt(address voter, uint256 id, uint256 k) internal pure returns (bytes32) {
        return keccak256(abi.encode("adversary salt", voter, id, k));
    }

    function _break(string memory why) internal {
        if (!ghostBroken) broken = why;
        ghostBroken = true;
    }

    /// @notice Ends every task as time passes in 30 s steps (honest duties keep running, Sybils
    ///         stay silent): used by afterInvariant to show no funds stay stuck.
    function settleEverything() external {
        for (uint256 round; round < 2_000; ++round) {
            currentTime += 30;
            currentBlock += 2;
            vm.warp(currentTime);
            vm.roll(currentBlock);
            _honestDuties();
            bool running;
            for (uint256 i; i < tasks.length; ++i) {
                uint256 id = tasks[i];
                ITaskMarket.Task memory t = market.getTask(id);
                if (t.status == ITaskMarket.Status.Open) {
                    running = true;
                    if (_eligible(Want.Assignable, id, t)) {
                        market.assign(id);
                        drawBlockOf[id] = block.number;
                    } else if (_eligible(Want.Expirable, id, t)) {
                        _settled(id, address(0), abi.encodeCall(ITaskMarket.expire, (id)));
                    }
                } else if (t.status == ITaskMarket.Status.Assigned) {
                    running = true;
                    if (_eligible(Want.Finalizable, id, t)) _finalize(id, t);
                    else if (_eligible(Want.TimedOut, id, t)) _timeout(id, t);
                }
            }
            if (!running) return;
        }
        revert("settleEverything: tasks still running");
    }

    function selectors() external pure returns (bytes4[] memory s) {
        s = new bytes4[](8);
        s[0] = this.submit.selector;
        s[1] = this.sybilBid.selector;
        s[2] = this.sybilCommit.selector;
        s[3] = this.collude.selector;
        s[4] = this.assign.selector;
        s[5] = this.poke.selector;
        s[6] = this.sybilStake.selector;
        s[7] = this.warp.selector;
    }
}
