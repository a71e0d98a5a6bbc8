// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {CommonBase} from "../utils/Test.sol";
import {OGPUToken} from "../../src/OGPUToken.sol";
import {ProviderRegistry} from "../../src/ProviderRegistry.sol";
import {ITaskMarket} from "../../src/interfaces/ITaskMarket.sol";
import {IProviderRegistry} from "../../src/interfaces/IProviderRegistry.sol";

/// @notice Drives TaskMarket for the invariant campaign. Actors: two clients (submit, with or
///         without permit; cancel; confirm), ten registered providers who bid and then play
///         their role (at the cap, only below the highest bid, which they evict: a bid at the
///         highest must fail), and time. Provider roles: 0-2 and 8 honest; 3 and 9 contrarian
///         voters (always vote against the truth: split votes, ties, minority voters); 4-5
///         cheating executors (they commit a wrong result root, which honest voters reject); 6 a
///         lazy voter that commits and never reveals; 7 an absent provider that never commits
///         anything: no verdict, and as executor no checkpoint (it times out). Honest voters
///         accept iff the root is the right one. Every 4th task is grabbed by the absent
///         provider and the next one by a cheater (a bid of 0, placed first: grabberOf), so every
///         role executes in every campaign. Anyone pokes assign (not before the minimum open
///         time: at the cap, assign tries early, is refused, then waits it out), expire,
///         finalize and timeouts; stakers add, unbond and claim stake; impostors try to commit or
///         vote where they may not. Each action looks for a task where it is possible (so calls
///         land), and a call drives a task as far as one step allows (submit places the first
///         bid, assign seats the council in the next block, a verdict call may commit or reveal
///         the whole council), so a 200-call run takes tasks all the way through. Every input is
///         bounded and every impossible action skipped, so the campaign runs with
///         fail_on_revert: any revert is a bug. Ghost variables follow each escrow.
contract MarketHandler is CommonBase {
    bytes32 internal constant PERMIT_TYPEHASH =
        keccak256("Permit(address owner,address spender,uint256 value,uint256 nonce,uint256 deadline)");
    /// @notice Most tasks per run, and most tasks running at once (Open or Assigned).
    uint256 public constant MAX_TASKS = 32;
    uint256 public constant MAX_ACTIVE = 3;
    uint256 internal constant PROVIDERS = 10;
    /// @dev Largest council a task asks for (_params: 1..3 seats).
    uint256 internal constant MAX_COUNCIL = 3;
    /// @notice The model every task names; every provider is in its council pool.
    bytes32 public constant MODEL = keccak256("invariant model");

    ITaskMarket public immutable market;
    ProviderRegistry public immutable registry;
    OGPUToken public immutable token;
    address public immutable admin;

    address[] public clients;
    uint256[] internal clientKeys;
    address[] public providers;
    uint256[] public tasks;
    /// @notice The providers that bid on each task (the only ones the market can hold collateral of).
    mapping(uint256 taskId => address[]) internal _bidders;
    /// @notice The block whose hash seeds each task's next council draw (as the market set it).
    mapping(uint256 taskId => uint256) public drawBlockOf;

    /// @notice Time and block the campaign has reached (vm.warp/roll do not carry over between calls).
    uint256 public currentTime;
    uint256 public currentBlock;

    // ghosts, per task
    mapping(uint256 taskId => uint256) public ghostEscrowed; // pulled from the client at submit
    mapping(uint256 taskId => uint256) public ghostPaidOut; // escrow that left the market since
    mapping(uint256 taskId => uint256) public ghostExecutorPaid; // of which to the executor
    /// @notice Set if an account other than the executor committed, or a non-member voted.
    bool public ghostUnauthorized;
    /// @notice Set if an action that must fail (bidding twice, finalizing twice...) succeeded.
    bool public ghostDoubleAction;
    /// @notice Set if an undecided round (re-drawn, or failing the task the second time) slashed its executor.
    bool public ghostUndecidedSlashed;

    mapping(bytes32 => uint256) public calls;
    /// @notice Actions that went through, by name (the campaign's coverage).
    mapping(bytes32 => uint256) public done;

    constructor(ITaskMarket market_, ProviderRegistry registry_, OGPUToken token_, address admin_) {
        market = market_;
        registry = registry_;
        token = token_;
        admin = admin_;
        for (uint256 i; i < 2; ++i) {
            (address c, uint256 k) = makeAddrAndKey(string.concat("client", vm.toString(i)));
            clients.push(c);
            clientKeys.push(k);
        }
        for (uint256 i; i < PROVIDERS; ++i) {
            providers.push(makeAddr(string.concat("mprovider", vm.toString(i))));
        }
        currentTime = block.timestamp;
        currentBlock = block.number;
    }

    modifier useTime() {
        vm.warp(currentTime);
        vm.roll(currentBlock);
        _;
    }

    modifier count(bytes32 name) {
        calls[name]++;
        _;
    }

    function taskCount() external view returns (uint256) {
        return tasks.length;
    }

    function biddersOf(uint256 taskId) external view returns (address[] memory) {
        return _bidders[taskId];
    }

    function providerCount() external pure returns (uint256) {
        return PROVIDERS;
    }

    function clientCount() external view returns (uint256) {
        return clients.length;
    }

    function correctRoot(uint256 taskId, uint256 k) public pure returns (bytes32) {
        return keccak256(abi.encode("correct result", taskId, k));
    }

    function isCheater(address p) public view returns (bool) {
        return p == providers[4] || p == providers[5];
    }

    function isContrarian(address p) public view returns (bool) {
        return p == providers[3] || p == providers[9];
    }

    /// @dev The verdict `voter` gives on a checkpoint whose root is (not) the right one.
    function _verdict(address voter, bool rootIsRight) internal view returns (bool) {
        return isContrarian(voter) ? !rootIsRight : rootIsRight;
    }

    function neverReveals(address p) public view returns (bool) {
        return p == providers[6] || p == providers[7];
    }

    function neverCommits(address p) public view returns (bool) {
        return p == providers[7];
    }

    /// @notice The provider that grabs task `id` with a bid of 0 (so that it executes, ties going
    ///         to the earliest bid): the absent provider every 4th task (it times out), a cheater
    ///         the next one (it commits a wrong root); nobody on the others (open competition).
    ///         So every role executes in any campaign that assigns a few tasks.
    function grabberOf(uint256 id) public view returns (address) {
        if (id % 4 == 0) return providers[7];
        if (id % 4 == 1) return providers[4 + (id / 4) % 2];
        return address(0);
    }

    function _salt(address voter, uint256 taskId, uint256 k) internal pure returns (bytes32) {
        return keccak256(abi.encode("salt", voter, taskId, k));
    }

    /// @dev What an action needs of a task.
    enum Want {
        Biddable,
        Assignable,
        Expirable,
        Cancellable,
        Committable,
        Votable,
        Revealable,
        Finalizable,
        TimedOut,
        Running,
        Seatable,
        AssignableSoon
    }

    /// @dev A task where the action is possible now, scanning from a random one, so that the
    ///      campaign's calls land where they can do something.
    function _pick(uint256 seed, Want want) internal view returns (bool ok, uint256 taskId, ITaskMarket.Task memory t) {
        uint256 n = tasks.length;
        for (uint256 i; i < n; ++i) {
            taskId = tasks[(seed % n + i) % n];
            t = market.getTask(taskId);
            if (_eligible(want, taskId, t)) return (true, taskId, t);
        }
        return (false, 0, t);
    }

    function _eligible(Want want, uint256 id, ITaskMarket.Task memory t) internal view returns (bool) {
        uint256 nowTs = block.timestamp;
        if (t.status == ITaskMarket.Status.Open) {
            if (want == Want.Biddable) return nowTs < t.biddingEnd; // at the cap: a lower bid evicts
            if (want == Want.Assignable) {
                return nowTs >= t.assignableAt
                    && (t.bidCount == t.maxBids || (nowTs >= t.biddingEnd && t.bidCount >= 1));
            }
            // at the cap but inside the minimum open time: assignable once time reaches assignableAt
            if (want == Want.AssignableSoon) return nowTs < t.assignableAt && t.bidCount == t.maxBids;
            if (want == Want.Expirable) return nowTs >= t.biddingEnd && t.bidCount == 0;
            // the client cancels only half the tasks nobody bids on: the other half expire
            if (want == Want.Cancellable) return t.bidCount == 0 && id % 10 != 9;
            return false;
        }
        if (t.status != ITaskMarket.Status.Assigned) return false;
        if (want == Want.Running) return true;
        if (!t.councilSeated) return want == Want.Seatable && block.number > drawBlockOf[id];
        if (!t.voting) {
            if (want == Want.Committable) return nowTs < t.deadline;
            if (want == Want.TimedOut) return nowTs >= t.deadline;
            return false;
        }
        ITaskMarket.Checkpoint memory cp = market.checkpointOf(id, t.nextCheckpoint);
        if (want == Want.Votable) return nowTs < cp.commitEnd;
        if (want == Want.Revealable) {
            return (nowTs >= cp.commitEnd || cp.commits == t.councilCount) && nowTs < cp.revealEnd;
        }
        if (want == Want.Finalizable) return nowTs >= cp.revealEnd || cp.reveals == t.councilCount;
        return false;
    }

    // ================================================================== clients

    function submit(uint256 clientSeed, uint256 seed, bool withPermit) external useTime count("submit") {
        if (tasks.length >= MAX_TASKS || _active() >= MAX_ACTIVE) return;
        uint256 ci = clientSeed % clients.length;
        address c = clients[ci];
        ITaskMarket.TaskParams memory p = _params(seed);
        uint256 escrow = p.maxPrice + p.councilFeePerVote * p.councilSize * p.checkpoints;
        if (token.balanceOf(c) < escrow) {
            vm.prank(admin);
            token.mint(c, 1_000e18);
        }
        uint256 marketBefore = token.balanceOf(address(market));
        uint256 id;
        if (withPermit) {
            uint256 deadline = block.timestamp + 1 hours;
            bytes32 structHash =
                keccak256(abi.encode(PERMIT_TYPEHASH, c, address(market), escrow, token.nonces(c), deadline));
            (uint8 v, bytes32 r, bytes32 s) = vm.sign(
                clientKeys[ci], keccak256(abi.encodePacked("\x19\x01", token.DOMAIN_SEPARATOR(), structHash))
            );
            vm.prank(c);
            id = market.submitWithPermit(p, deadline, v, r, s);
            vm.prank(c);
            token.approve(address(market), type(uint256).max); // the permit replaced the allowance
        } else {
            vm.prank(c);
            id = market.submit(p);
        }
        tasks.push(id);
        ghostEscrowed[id] = token.balanceOf(address(market)) - marketBefore;
        done["submit"]++;
        // the first bid comes with the task (its grabber's, if it has one), so tasks get going
        _bidOn(id, market.getTask(id), seed >> 8, seed >> 16);
    }

    function _isListed(address[] storage list, address p) internal view returns (bool) {
        for (uint256 i; i < list.length; ++i) {
            if (list[i] == p) return true;
        }
        return false;
    }

    function _active() internal view returns (uint256 n) {
        for (uint256 i; i < tasks.length; ++i) {
            ITaskMarket.Status st = market.getTask(tasks[i]).status;
            if (st == ITaskMarket.Status.Open || st == ITaskMarket.Status.Assigned) ++n;
        }
    }

    function _params(uint256 seed) internal pure returns (ITaskMarket.TaskParams memory p) {
        uint256[12] memory r;
        for (uint256 i; i < r.length; ++i) {
            r[i] = uint256(keccak256(abi.encode(seed, i)));
        }
        p.specHash = keccak256(abi.encode("spec", seed));
        p.specUri = "ipfs://spec";
        p.dataRoot = keccak256(abi.encode("data", seed));
        p.modelHash = MODEL;
        p.itemCount = uint32(1 + r[0] % 20);
        p.checkpoints = uint8(1 + r[1] % (p.itemCount < 3 ? p.itemCount : 3));
        p.councilSize = uint8(1 + r[2] % 3);
        p.maxBids = uint8(p.councilSize + 1 + r[3] % 3);
        p.maxPrice = 1 + r[4] % 100e18;
        p.councilFeePerVote = r[5] % 3e18;
        p.collateral = 1e18 + r[6] % 20e18;
        p.biddingWindow = uint32(300 + r[7] % 1500);
        p.checkpointWindow = uint32(120 + r[8] % 900);
        p.commitWindow = uint32(120 + r[9] % 480);
        p.revealWindow = uint32(120 + r[10] % 480);
        if (r[11] % 2 == 0) {
            p.softDeadline = uint32(r[11] % 1800);
            p.hardDeadline = uint32(p.softDeadline + 1 + (r[11] >> 64) % 3600);
        }
    }

    /// @notice The client cancels a task without bids (1 time in 4) or confirms a running one
    ///         (1 in 16), or anyone expires a task whose window ended without a bid (1 in 4), or
    ///         times out an executor that missed its deadline (1 in 4).
    function poke(uint256 taskSeed, uint256 which) external useTime count("poke") {
        which %= 8;
        bool ok;
        uint256 id;
        ITaskMarket.Task memory t;
        if (which < 2) {
            (ok, id, t) = _pick(taskSeed, Want.TimedOut);
            if (ok) {
                _settled(id, t.executor, address(this), abi.encodeCall(ITaskMarket.timeoutCheckpoint, (id)));
                done["timeout"]++;
            }
        } else if (which < 4) {
            (ok, id, t) = _pick(taskSeed, Want.Expirable);
            if (ok) {
                _settled(id, address(0), address(this), abi.encodeCall(ITaskMarket.expire, (id)));
                done["expire"]++;
            }
        } else if (which < 6) {
            (ok, id, t) = _pick(taskSeed, Want.Cancellable);
            if (ok) {
                _settled(id, address(0), t.client, abi.encodeCall(ITaskMarket.cancel, (id)));
                done["cancel"]++;
            }
        } else {
            (ok, id, t) = _pick(taskSeed, Want.Running);
            if (ok && taskSeed % 4 == 0) {
                _settled(id, t.executor, t.client, abi.encodeCall(ITaskMarket.confirm, (id)));
                done["confirm"]++;
            }
        }
    }

    // ================================================================== providers

    /// @notice One or two providers bid on an open task.
    function bid(uint256 taskSeed, uint256 providerSeed, uint256 price) external useTime count("bid") {
        _bid(taskSeed, providerSeed, price);
        if (price % 2 == 0) _bid(taskSeed, providerSeed >> 8, price >> 8);
    }

    function _bid(uint256 taskSeed, uint256 providerSeed, uint256 price) internal {
        (bool ok, uint256 id, ITaskMarket.Task memory t) = _pick(taskSeed, Want.Biddable);
        if (ok) _bidOn(id, t, providerSeed, price);
    }

    /// @dev A provider bids on open task `id` (before its bidding end): the task's grabber first
    ///      (at 0), then a random provider that has not bid yet.
    function _bidOn(uint256 id, ITaskMarket.Task memory t, uint256 providerSeed, uint256 price) internal {
        if (id % 5 == 4) return; // every 5th task nobody wants: it expires or is cancelled
        address p = providers[providerSeed % PROVIDERS];
        address grabber = grabberOf(id);
        if (grabber != address(0) && !_isListed(_bidders[id], grabber) && _canBack(grabber, t.collateral)) p = grabber;
        else grabber = address(0);
        if (market.lockedFor(id, p) != 0) {
            // a second bid must fail
            vm.prank(p);
            try market.bid(id, 0) {
                ghostDoubleAction = true;
            } catch {}
            // then find a provider that has not bid yet
            for (uint256 i = 1; i < PROVIDERS && market.lockedFor(id, p) != 0; ++i) {
                p = providers[(providerSeed % PROVIDERS + i) % PROVIDERS];
            }
            if (market.lockedFor(id, p) != 0) return;
        }
        uint256 free = registry.freeStakeOf(p);
        if (free < t.collateral) {
            uint256 missing = t.collateral - free;
            if (token.balanceOf(p) < missing) return;
            vm.prank(p);
            registry.stake(missing);
        }
        uint256 ceiling = t.maxPrice;
        bool evicts = t.bidCount == t.maxBids;
        if (evicts) {
            // at the cap only a bid below the highest gets in (evicting it); a higher one must fail
            uint256 highest;
            for (uint256 i; i < t.bidCount; ++i) {
                uint256 bp = market.getBid(id, i).price;
                if (bp > highest) highest = bp;
            }
            vm.prank(p);
            try market.bid(id, highest) {
                ghostDoubleAction = true;
            } catch {}
            if (highest == 0) return;
            ceiling = highest - 1;
        }
        vm.prank(p);
        // a grabber bids 0 (it then executes: the absent one times out, a cheater commits garbage)
        market.bid(id, p == grabber ? 0 : bound(price, 0, ceiling));
        if (!_isListed(_bidders[id], p)) _bidders[id].push(p); // an evicted bidder may come back
        done[evicts ? bytes32("evict") : bytes32("bid")]++;
    }

    /// @notice Anyone assigns a task that may be assigned (one at the cap inside the minimum
    ///         open time waits it out: time moves to its assignableAt, after an early assign is
    ///         refused), and then, in the next block, seats its council.
    function _canBack(address p, uint256 collateral) internal view returns (bool) {
        return registry.freeStakeOf(p) + token.balanceOf(p) >= collateral;
    }

    function assign(uint256 taskSeed, bytes32 randao) external useTime count("assign") {
        (bool ok, uint256 id, ITaskMarket.Task memory t) = _pick(taskSeed, Want.Assignable);
        if (!ok) {
            (ok, id, t) = _pick(taskSeed, Want.AssignableSoon);
            if (!ok) return;
            try market.assign(id) {
                ghostDoubleAction = true; // before the minimum open time: must fail
                return;
            } catch {}
            done["earlyAssignRefused"]++;
            currentTime = t.assignableAt;
            vm.warp(currentTime);
        }
        vm.prevrandao(randao);
        market.assign(id);
        drawBlockOf[id] = block.number;
        done["assign"]++;
        currentBlock += 1;
        vm.roll(currentBlock);
        _seat(id);
    }

    /// @notice Anyone seats an assigned task's council from the pool (a block after its draw
    ///         block); past 256 blocks this re-anchors the draw instead.
    function seatCouncil(uint256 taskSeed) external useTime count("seatCouncil") {
        (bool ok, uint256 id,) = _pick(taskSeed, Want.Seatable);
        if (!ok) return;
        _seat(id);
    }

    function _seat(uint256 id) internal {
        _settled(id, market.getTask(id).executor, address(this), abi.encodeCall(ITaskMarket.seatCouncil, (id)));
        ITaskMarket.Task memory t = market.getTask(id);
        if (t.status == ITaskMarket.Status.Failed) done["noCouncil"]++;
        else if (t.councilSeated) done["seated"]++;
        else (drawBlockOf[id], done["reanchored"]) = (block.number, done["reanchored"] + 1);
        // a seated council cannot be seated twice
        if (t.councilSeated) {
            try market.seatCouncil(id) {
                ghostDoubleAction = true;
            } catch {}
        }
    }

    function commitCheckpoint(uint256 taskSeed) external useTime count("commitCheckpoint") {
        (bool ok, uint256 id, ITaskMarket.Task memory t) = _pick(taskSeed, Want.Committable);
        if (!ok || neverCommits(t.executor)) return;
        uint256 k = t.nextCheckpoint;
        bytes32 root = isCheater(t.executor) ? keccak256(abi.encode("wrong", id, k)) : correctRoot(id, k);
        vm.prank(t.executor);
        market.commitCheckpoint(id, k, root);
        done[isCheater(t.executor) ? bytes32("commitWrongRoot") : bytes32("commitCheckpoint")]++;
    }

    /// @notice One council member commits its verdict, or (every other call) every member that
    ///         commits at all, one after the other.
    function commitVerdict(uint256 taskSeed, uint256 seatSeed) external useTime count("commitVerdict") {
        uint256 n = seatSeed % 2 == 0 ? MAX_COUNCIL : 1;
        for (uint256 i; i < n; ++i) {
            _commitVerdict(taskSeed, seatSeed >> (8 * i));
        }
    }

    function _commitVerdict(uint256 taskSeed, uint256 seatSeed) internal {
        (bool ok, uint256 id, ITaskMarket.Task memory t) = _pick(taskSeed, Want.Votable);
        if (!ok) return;
        uint256 k = t.nextCheckpoint;
        bool accept = market.checkpointOf(id, k).resultRoot == correctRoot(id, k);
        address[] memory council = market.councilOf(id);
        for (uint256 i; i < council.length; ++i) {
            address voter = council[(seatSeed % council.length + i) % council.length];
            if (neverCommits(voter) || market.verdictOf(id, k, voter).committed) continue;
            bytes32 c = market.verdictCommitment(id, k, _verdict(voter, accept), _salt(voter, id, k), voter);
            vm.prank(voter);
            market.commitVerdict(id, k, c);
            done["commitVerdict"]++;
            return;
        }
    }

    /// @notice One council member reveals its verdict, or (every other call) every member that
    ///         reveals at all, one after the other.
    function revealVerdict(uint256 taskSeed, uint256 seatSeed) external useTime count("revealVerdict") {
        uint256 n = seatSeed % 2 == 0 ? MAX_COUNCIL : 1;
        for (uint256 i; i < n; ++i) {
            _revealVerdict(taskSeed, seatSeed >> (8 * i));
        }
    }

    function _revealVerdict(uint256 taskSeed, uint256 seatSeed) internal {
        (bool ok, uint256 id, ITaskMarket.Task memory t) = _pick(taskSeed, Want.Revealable);
        if (!ok) return;
        uint256 k = t.nextCheckpoint;
        bool accept = market.checkpointOf(id, k).resultRoot == correctRoot(id, k);
        address[] memory council = market.councilOf(id);
        for (uint256 i; i < council.length; ++i) {
            address voter = council[(seatSeed % council.length + i) % council.length];
            ITaskMarket.Verdict memory v = market.verdictOf(id, k, voter);
            if (neverReveals(voter) || !v.committed || v.revealed) continue;
            vm.prank(voter);
            market.revealVerdict(id, k, _verdict(voter, accept), _salt(voter, id, k));
            done["revealVerdict"]++;
            return;
        }
    }

    function finalizeCheckpoint(uint256 taskSeed) external useTime count("finalizeCheckpoint") {
        (bool ok, uint256 id, ITaskMarket.Task memory t) = _pick(taskSeed, Want.Finalizable);
        if (!ok) return;
        uint256 k = t.nextCheckpoint;
        ITaskMarket.Checkpoint memory closed = market.checkpointOf(id, k);
        uint256 executorStake = registry.stakeOf(t.executor).staked;
        _settled(id, t.executor, address(this), abi.encodeCall(ITaskMarket.finalizeCheckpoint, (id, k)));
        ITaskMarket.Task memory after_ = market.getTask(id);
        if (after_.status == ITaskMarket.Status.Assigned && !after_.councilSeated) {
            // undecided: the council is re-drawn from this block
            drawBlockOf[id] = block.number;
            if (registry.stakeOf(t.executor).staked != executorStake) ghostUndecidedSlashed = true;
            done["redrawn"]++;
        } else {
            closed = market.checkpointOf(id, k);
        }
        if (after_.status == ITaskMarket.Status.Failed && closed.rejections * 2 <= t.councilCount) {
            // twice undecided (silence, a tie): the task failed, and its executor is not slashed
            if (registry.stakeOf(t.executor).staked != executorStake) ghostUndecidedSlashed = true;
            done["undecidedFailed"]++;
        }
        done[closed.state == ITaskMarket.CheckpointState.Accepted ? bytes32("accepted") : bytes32("rejected")]++;
        if (closed.reveals < t.councilCount) done["nonRevealSlashed"]++;
        if (closed.approvals != 0 && closed.rejections != 0) done["splitVote"]++;
        // the same round cannot be finalized twice
        try market.finalizeCheckpoint(id, k) {
            ghostDoubleAction = true;
        } catch {}
    }

    /// @notice Accounts that may not commit or vote try to: it must always fail.
    function impostor(uint256 taskSeed, uint256 actorSeed) external useTime count("impostor") {
        (bool ok, uint256 id, ITaskMarket.Task memory t) = _pick(taskSeed, Want.Running);
        if (!ok) return;
        uint256 k = t.nextCheckpoint;
        address a = actorSeed % 3 == 0 ? clients[actorSeed % clients.length] : providers[actorSeed % PROVIDERS];
        if (a != t.executor) {
            vm.prank(a);
            try market.commitCheckpoint(id, k, keccak256("forged")) {
                ghostUnauthorized = true;
            } catch {}
        }
        if (t.voting && !market.verdictOf(id, k, a).member) {
            vm.prank(a);
            try market.commitVerdict(id, k, keccak256("forged")) {
                ghostUnauthorized = true;
            } catch {}
        }
        done["impostor"]++;
    }

    // ================================================================== stakers and time

    /// @notice A provider stakes more, requests to unstake free stake, or claims its bucket.
    function staker(uint256 providerSeed, uint256 which, uint256 amount) external useTime count("staker") {
        address p = providers[providerSeed % PROVIDERS];
        which %= 3;
        if (which == 0) {
            amount = bound(amount, 0, token.balanceOf(p));
            if (amount == 0) return;
            vm.prank(p);
            registry.stake(amount);
        } else if (which == 1) {
            amount = bound(amount, 0, registry.freeStakeOf(p));
            if (amount == 0) return;
            vm.prank(p);
            registry.requestUnstake(amount);
        } else {
            IProviderRegistry.StakeInfo memory si = registry.stakeOf(p);
            if (si.unbonding == 0 || block.timestamp < si.unbondingEnd) return;
            vm.prank(p);
            registry.claim();
        }
    }

    function warp(uint256 secs, uint256 blocks) external count("warp") {
        currentTime += bound(secs, 0, 240);
        currentBlock += bound(blocks, 1, 20);
    }

    // ================================================================== helpers

    /// @dev Runs a settling call as `caller` and books the escrow that left the market, and
    ///      what of it reached the executor, against the task.
    function _settled(uint256 id, address executor, address caller, bytes memory data) internal {
        uint256 marketBefore = token.balanceOf(address(market));
        uint256 executorBefore = executor == address(0) ? 0 : token.balanceOf(executor);
        vm.prank(caller);
        (bool success, bytes memory ret) = address(market).call(data);
        if (!success) {
            assembly ("memory-safe") {
                revert(add(ret, 0x20), mload(ret))
            }
        }
        ghostPaidOut[id] += marketBefore - token.balanceOf(address(market));
        if (executor != address(0)) ghostExecutorPaid[id] += token.balanceOf(executor) - executorBefore;
    }

    /// @notice Ends every task (polling assign/expire/cancel/finalize/timeout as time passes),
    ///         as anyone could: used by afterInvariant to show no funds can stay stuck.
    function settleEverything() external {
        for (uint256 round; round < 200; ++round) {
            bool open;
            currentTime += 2 hours;
            currentBlock += 100;
            vm.warp(currentTime);
            vm.roll(currentBlock);
            for (uint256 i; i < tasks.length; ++i) {
                uint256 id = tasks[i];
                ITaskMarket.Task memory t = market.getTask(id);
                if (t.status == ITaskMarket.Status.Open) {
                    open = true;
                    if (t.bidCount >= 1) {
                        market.assign(id);
                        drawBlockOf[id] = block.number;
                    } else {
                        _settled(id, address(0), address(this), abi.encodeCall(ITaskMarket.expire, (id)));
                    }
                } else if (t.status == ITaskMarket.Status.Assigned) {
                    open = true;
                    if (!t.councilSeated) {
                        _seat(id);
                    } else if (t.voting) {
                        _settled(
                            id,
                            t.executor,
                            address(this),
                            abi.encodeCall(ITaskMarket.finalizeCheckpoint, (id, t.nextCheckpoint))
                        );
                        t = market.getTask(id);
                        if (t.status == ITaskMarket.Status.Assigned && !t.councilSeated) drawBlockOf[id] = block.number;
                    } else {
                        _settled(id, t.executor, address(this), abi.encodeCall(ITaskMarket.timeoutCheckpoint, (id)));
                    }
                }
            }
            if (!open) return;
        }
        revert("settleEverything: tasks still running");
    }

    /// @notice The selectors the campaign calls.
    function selectors() external pure returns (bytes4[] memory s) {
        s = new bytes4[](12);
        s[0] = this.submit.selector;
        s[1] = this.bid.selector;
        s[2] = this.assign.selector;
        s[3] = this.commitCheckpoint.selector;
        s[4] = this.commitVerdict.selector;
        s[5] = this.revealVerdict.selector;
        s[6] = this.finalizeCheckpoint.selector;
        s[7] = this.poke.selector;
        s[8] = this.impostor.selector;
        s[9] = this.staker.selector;
        s[10] = this.warp.selector;
        s[11] = this.seatCouncil.selector;
    }
}
