// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {CommonBase} from "../utils/Test.sol";
import {OGPUToken} from "../../src/OGPUToken.sol";
import {ProviderRegistry} from "../../src/ProviderRegistry.sol";
import {IStreamMarket} from "../../src/interfaces/IStreamMarket.sol";

/// @notice Plays attacks 2 and 3 of issue 12 against StreamMarket for the adversarial invariant
///         campaign (StreamMarketAdversary.invariant.t.sol). Actors:
///           - the client, which over-signs: it offers vouchers far above the deposit and the
///             allowances (1 time in 3, 1,000 times the price of the request), tops up, reserves
///             and lowers allowances (with the notice), closes, and disputes honest receipts;
///           - two Sybil subscribers of the client's, registered, staked and in the model's council
///             pool, subscribed the moment a stream is created (first in subscription order: the
///             council of attack 2 under the old rule; now councils are drawn from the pool, so
///             they sit only where the draw puts them); the client signs them huge vouchers, they
///             redeem aggressively from the unreserved deposit and, seated on a council, judge
///             honest receipts invalid (or stay silent);
///           - four honest providers: they subscribe, serve a request only when what they are owed
///             afterwards fits in min(voucher, redeemed + surelyRedeemable) (else they answer 402),
///             sign a receipt for every response, redeem when a decrease is announced, when the
///             stream is closing and whenever they like, seat disputes a block after they were
///             opened (anyone may) and judge them truthfully.
///         Honest duties run at the start of every call; warp moves at most 30 s and every notice
///         and window is >= 60 s, so an honest provider never misses one. Ghosts: what each honest
///         provider served within the guarantee, the deposits in and out of every stream, every
///         voucher signed, each honest provider's stake and what captured councils took from it,
///         the composition of every council; flags for every rule broken. fail_on_revert stays on.
contract AdversaryStreamHandler is CommonBase {
    uint256 public constant MAX_STREAMS = 12;
    uint256 public constant MAX_RUNNING = 2;
    uint256 internal constant SYBILS = 2;
    uint256 internal constant HONEST = 4;
    uint8 internal constant MAX_SUBSCRIBERS = 32;
    bytes32 internal constant VOUCHER_TYPEHASH =
        keccak256("Voucher(uint256 streamId,address provider,uint256 cumulativeAmount)");
    bytes32 internal constant RECEIPT_TYPEHASH = keccak256(
        "Receipt(uint256 streamId,bytes32 requestId,bytes32 responseHash,uint32 promptTokens,uint32 completionTokens)"
    );

    IStreamMarket public immutable market;
    ProviderRegistry public immutable registry;
    OGPUToken public immutable token;
    address public immutable admin;
    address public immutable client;
    uint256 internal immutable clientKey;
    bytes32 public immutable model;

    address[] public sybils;
    address[] public honest;
    mapping(address => uint256) internal _keyOf;
    uint256[] public streams;
    uint256[] public disputes;

    uint256 public currentTime;
    uint256 public currentBlock;

    // ---------------------------------------------------------------- ghosts: money
    mapping(uint256 streamId => uint256) public ghostDeposited; // create + top-ups
    mapping(uint256 streamId => uint256) public ghostPaidOut; // redeems + the refund at the close
    mapping(uint256 streamId => uint256) public ghostRedeemedTotal;
    mapping(uint256 streamId => mapping(address => uint256)) public ghostSigned; // largest voucher signed
    mapping(uint256 streamId => mapping(address => uint256)) public ghostReceived; // what redeems paid it
    mapping(uint256 streamId => mapping(address => bytes)) internal _voucher;
    uint256 public ghostOpenBonds;

    // ---------------------------------------------------------------- ghosts: the guarantee
    /// @notice What an honest provider served on the stream (each request's charge, counted only
    ///         when it fit in min(voucher, redeemed + surelyRedeemable) at the time).
    mapping(uint256 streamId => mapping(address => uint256)) public ghostServed;
    /// @notice Set when a captured council removed the honest provider from the stream (its
    ///         unredeemed credit is then no longer guaranteed).
    mapping(uint256 streamId => mapping(address => bool)) public ghostVoided;
    mapping(uint256 streamId => mapping(address => IStreamMarket.Receipt)) internal _receipt;
    mapping(uint256 streamId => mapping(address => bytes)) internal _receiptSig;
    /// @dev Receipts disputed so far, by EIP-712 digest (one dispute per receipt ever).
    mapping(bytes32 => bool) internal _disputed;
    mapping(address => uint256) public ghostHonestStaked;
    mapping(address => uint256) public ghostCapturedLoss;

    // ---------------------------------------------------------------- counts
    uint256 public served;
    uint256 public refused402;
    uint256 public overSignedOffers;
    uint256 public overSignedRefused;
    uint256 public honestRedeems;
    uint256 public sybilRedeems;
    uint256 public decreasesAnnounced;
    uint256 public councilsJudged;
    uint256 public captures;
    uint256 public honestRemovedByCapture;
    uint256 public honestDisputesWon;

    bool public ghostBroken;
    string public broken;
    mapping(bytes32 => uint256) public done;

    constructor(
        IStreamMarket market_,
        ProviderRegistry registry_,
        OGPUToken token_,
        address admin_,
        address client_,
        uint256 clientKey_,
        address[] memory providers_,
        uint256[] memory keys_,
        bytes32 model_
    ) {
        market = market_;
        registry = registry_;
        token = token_;
        admin = admin_;
        client = client_;
        clientKey = clientKey_;
        model = model_;
        require(providers_.length == SYBILS + HONEST, "6 providers");
        for (uint256 i; i < providers_.length; ++i) {
            _keyOf[providers_[i]] = keys_[i];
            if (i < SYBILS) {
                sybils.push(providers_[i]);
            } else {
                honest.push(providers_[i]);
                ghostHonestStaked[providers_[i]] = registry_.stakeOf(providers_[i]).staked;
            }
        }
        currentTime = block.timestamp;
        currentBlock = block.number;
    }

    // ================================================================== views and roles

    function streamCount() external view returns (uint256) {
        return streams.length;
    }

    function honestCount() external pure returns (uint256) {
        return HONEST;
    }

    function isSybil(address p) public view returns (bool) {
        return p == sybils[0] || p == sybils[1];
    }

    function isHonest(address p) public view returns (bool) {
        for (uint256 i; i < HONEST; ++i) {
            if (honest[i] == p) return true;
        }
        return false;
    }

    function _open(IStreamMarket.Stream memory s) internal pure returns (bool) {
        return s.status == IStreamMarket.StreamStatus.Active || s.status == IStreamMarket.StreamStatus.Closing;
    }

    function _pickStream(uint256 seed, bool activeOnly) internal view returns (bool, uint256, IStreamMarket.Stream memory s) {
        uint256 n = streams.length;
        for (uint256 i; i < n; ++i) {
            uint256 id = streams[(seed % n + i) % n];
            s = market.getStream(id);
            if (activeOnly ? s.status == IStreamMarket.StreamStatus.Active : _open(s)) return (true, id, s);
        }
        return (false, 0, s);
    }

    function _running() internal view returns (uint256 n) {
        for (uint256 i; i < streams.length; ++i) {
            if (_open(market.getStream(streams[i]))) ++n;
        }
    }

    function _subscribed(uint256 id, address p) internal view returns (bool) {
        IStreamMarket.SubscriptionStatus st = market.subscription(id, p).status;
        return st == IStreamMarket.SubscriptionStatus.Active || st == IStreamMarket.SubscriptionStatus.Unsubscribing;
    }

    // ================================================================== honest duties

    /// @dev The client applies every due allowance decrease the moment its notice ends (before
    ///      the honest providers act in that block: the strongest timing for it), then the honest
    ///      duties run.
    modifier act() {
        vm.warp(currentTime);
        vm.roll(currentBlock);
        _finishDecreases();
        _honestDuties();
        _;
    }

    function _honestDuties() internal {
        for (uint256 i; i < streams.length; ++i) {
            uint256 id = streams[i];
            IStreamMarket.Stream memory s = market.getStream(id);
            if (!_open(s)) continue;
            for (uint256 j; j < HONEST; ++j) {
                address h = honest[j];
                if (s.status == IStreamMarket.StreamStatus.Active) _honestSubscribe(id, s, h);
                // redeem at once what an announced decrease or the close no longer guarantees
                bool closing = s.status == IStreamMarket.StreamStatus.Closing;
                if (closing || market.subscription(id, h).pendingDecrease != 0) _honestRedeem(id, h);
            }
        }
        for (uint256 i; i < disputes.length; ++i) {
            _honestJudge(disputes[i]);
        }
    }

    function _honestSubscribe(uint256 id, IStreamMarket.Stream memory s, address h) internal {
        IStreamMarket.SubscriptionStatus st = market.subscription(id, h).status;
        if (st != IStreamMarket.SubscriptionStatus.None || s.subscriberCount >= MAX_SUBSCRIBERS) return;
        if (!_ensureFree(h, s.collateral)) return;
        vm.prank(h);
        market.subscribe(id);
        done["honestSubscribe"]++;
    }

    /// @dev An honest provider redeems its latest voucher; it must be paid at least what it
    ///      served within the guarantee (unless a captured council removed it).
    function _honestRedeem(uint256 id, address h) internal {
        IStreamMarket.Stream memory s = market.getStream(id);
        uint256 before = market.redeemed(id, h);
        uint256 signed = ghostSigned[id][h];
        if (!_open(s) || signed <= before) return;
        if (s.deposit == 0 && market.subscription(id, h).allowance == 0) {
            if (ghostServed[id][h] > before && !ghostVoided[id][h]) _break("served credit with nothing left to pay it");
            return;
        }
        _redeem(id, h, signed, _voucher[id][h]);
        honestRedeems++;
        if (!ghostVoided[id][h] && market.redeemed(id, h) < ghostServed[id][h]) {
            _break("an honest provider was paid less than it served within surelyRedeemable");
        }
        // the same voucher never pays twice
        vm.prank(h);
        try market.redeem(id, signed, _voucher[id][h]) {
            _break("a voucher paid twice");
        } catch {}
    }

    function _redeem(uint256 id, address p, uint256 cumulative, bytes memory sig) internal {
        uint256 before = market.redeemed(id, p);
        uint256 balance = token.balanceOf(p);
        vm.prank(p);
        uint256 paid = market.redeem(id, cumulative, sig);
        if (market.redeemed(id, p) - before != paid || token.balanceOf(p) - balance != paid) {
            _break("a redeem paid other than its booked amount");
        }
        ghostPaidOut[id] += paid;
        ghostRedeemedTotal[id] += paid;
        ghostReceived[id][p] += paid;
    }

    /// @dev An honest provider seats a dispute waiting for its council once its draw block is
    ///      past (re-anchored past 256 blocks; dropped, bond back, when the pool cannot fill it).
    function _seat(uint256 disputeId, IStreamMarket.Dispute memory d) internal {
        if (block.number <= d.drawBlock) return;
        vm.prank(honest[disputeId % HONEST]);
        market.seatDispute(disputeId);
        IStreamMarket.Dispute memory after_ = market.getDispute(disputeId);
        if (after_.state == IStreamMarket.DisputeState.NoCouncil) {
            ghostOpenBonds -= d.bond;
            done["dropped"]++;
        } else if (after_.state == IStreamMarket.DisputeState.Open) {
            done["seated"]++;
            for (uint256 s; s < after_.council.length; ++s) {
                address v = after_.council[s];
                if (v == d.provider || v == d.disputer || v == client) _break("an excluded account was seated");
            }
        }
    }

    /// @notice What the market holds locked of `p` for council seats: the stream's collateral
    ///         per seat it holds on a seated dispute not yet finalized.
    function seatLocked(address p) external view returns (uint256 total) {
        for (uint256 i; i < disputes.length; ++i) {
            IStreamMarket.Dispute memory d = market.getDispute(disputes[i]);
            if (d.state != IStreamMarket.DisputeState.Open) continue;
            for (uint256 s; s < d.council.length; ++s) {
                if (d.council[s] == p) total += market.getStream(d.streamId).collateral;
            }
        }
    }

    /// @dev Honest providers seat what waits for a council; honest seats commit and reveal the
    ///      truth (every disputed receipt here is an honest, valid one); anyone finalizes what is over.
    function _honestJudge(uint256 disputeId) internal {
        IStreamMarket.Dispute memory d = market.getDispute(disputeId);
        if (d.state == IStreamMarket.DisputeState.Seating) {
            _seat(disputeId, d);
            d = market.getDispute(disputeId);
        }
        if (d.state != IStreamMarket.DisputeState.Open) return;
        for (uint256 pass; pass < 2; ++pass) {
            for (uint256 s; s < d.council.length; ++s) {
                if (isHonest(d.council[s])) _vote(disputeId, d.council[s], true, true);
            }
        }
        d = market.getDispute(disputeId);
        if (block.timestamp >= d.revealEnd || d.reveals == d.council.length) _finalizeDispute(disputeId);
    }

    /// @dev `v`'s next step on an open dispute: commit (1), or reveal if `reveals` (2); 0 if none.
    function _vote(uint256 disputeId, address v, bool valid, bool reveals) internal returns (uint8) {
        IStreamMarket.Dispute memory d = market.getDispute(disputeId);
        IStreamMarket.Verdict memory vd = market.verdictOf(disputeId, v);
        bytes32 salt = keccak256(abi.encode("adversary salt", v, disputeId));
        if (!vd.committed) {
            if (block.timestamp >= d.commitEnd) return 0;
            bytes32 c = keccak256(abi.encode(block.chainid, address(market), disputeId, valid, salt, v));
            vm.prank(v);
            market.commitVerdict(disputeId, c);
            return 1;
        }
        bool revealing = (block.timestamp >= d.commitEnd || d.commits == d.council.length) && block.timestamp < d.revealEnd;
        if (!reveals || vd.revealed || !revealing) return 0;
        vm.prank(v);
        market.revealVerdict(disputeId, valid, salt);
        return 2;
    }

    // ================================================================== the client

    /// @notice The client opens a stream (a deposit from 0.001 oGPU to 50 oGPU); its two Sybils
    ///         subscribe in the same block, first in subscription order.
    function create(uint256 seed) external act {
        if (streams.length >= MAX_STREAMS || _running() >= MAX_RUNNING) return;
        IStreamMarket.StreamParams memory p = _params(seed);
        _ensureBalance(client, p.deposit);
        uint256 before = token.balanceOf(address(market));
        vm.prank(client);
        uint256 id = market.create(p);
        streams.push(id);
        ghostDeposited[id] = token.balanceOf(address(market)) - before;
        for (uint256 i; i < SYBILS; ++i) {
            if (!_ensureFree(sybils[i], p.collateral)) continue;
            vm.prank(sybils[i]);
            market.subscribe(id);
        }
        done["create"]++;
    }

    function _params(uint256 seed) internal view returns (IStreamMarket.StreamParams memory p) {
        uint256 r = uint256(keccak256(abi.encode("stream params", seed)));
        p.modelHash = model;
        p.specHash = keccak256(abi.encode("terms", seed));
        p.specUri = "ipfs://terms";
        p.pricePerKTokenGenerated = 1e15 + r % 1e17;
        p.pricePerKTokenVerified = (r >> 32) % 1e16;
        p.councilSize = uint8(1 + (r >> 64) % 3);
        p.responseMethod = IStreamMarket.ResponseMethod.Optimistic;
        p.collateral = 1e18 + (r >> 72) % 10e18;
        p.maxDowntime = 300;
        p.unsubscribeNotice = uint32(60 + (r >> 80) % 600);
        p.closeNotice = uint32(60 + (r >> 96) % 240);
        p.commitWindow = uint32(120 + (r >> 112) % 240);
        p.revealWindow = uint32(120 + (r >> 128) % 240);
        p.disputeBond = 1e18 + (r >> 144) % 3e18;
        p.deposit = (r >> 160) % 3 == 0 ? 1e15 : 1e15 + (r >> 168) % 50e18; // attack 3: 0.001 oGPU
    }

    /// @notice One request to an honest subscriber: the client offers a voucher (over-signed 1
    ///         time in 3); the provider serves only if what it is owed afterwards fits in
    ///         min(voucher, redeemed + surelyRedeemable), and signs a receipt; else 402.
    function request(uint256 streamSeed, uint256 who, uint256 tokens) external act {
        (bool ok, uint256 id, IStreamMarket.Stream memory s) = _pickStream(streamSeed, true);
        if (!ok) return;
        address h = honest[who % HONEST];
        if (market.subscription(id, h).status != IStreamMarket.SubscriptionStatus.Active) return;
        tokens = bound(tokens, 1, 4_000);
        uint256 charge = tokens * s.pricePerKTokenGenerated / 1_000 + 1;
        bool overSigned = (who >> 8) % 3 == 0;
        uint256 offered = ghostSigned[id][h] + (overSigned ? charge * 1_000 : charge);
        if (overSigned) overSignedOffers++;
        _sign(id, h, offered);
        uint256 owed = ghostServed[id][h] + charge;
        uint256 credit = market.redeemed(id, h) + market.surelyRedeemable(id, h);
        if (offered < credit) credit = offered;
        if (owed > credit) {
            refused402++;
            if (overSigned) overSignedRefused++;
            return;
        }
        ghostServed[id][h] = owed;
        IStreamMarket.Receipt memory r = IStreamMarket.Receipt({
            streamId: id,
            requestId: keccak256(abi.encode("request", id, h, owed)),
            responseHash: keccak256(abi.encode("honest response", id, h, owed)),
            promptTokens: 64,
            completionTokens: uint32(tokens)
        });
        _receipt[id][h] = r;
        _receiptSig[id][h] = _signWith(_keyOf[h], _receiptDigest(r));
        served++;
    }

    function _sign(uint256 id, address p, uint256 cumulative) internal {
        if (cumulative <= ghostSigned[id][p]) return;
        ghostSigned[id][p] = cumulative;
        _voucher[id][p] = _signWith(clientKey, _digest(keccak256(abi.encode(VOUCHER_TYPEHASH, id, p, cumulative))));
    }

    /// @notice The client moves funds: tops up, reserves part of the deposit for a subscriber
    ///         or for all of them, or announces a decrease of an honest allowance (down to zero).
    function funds(uint256 streamSeed, uint256 which, uint256 amount) external act {
        (bool ok, uint256 id, IStreamMarket.Stream memory s) = _pickStream(streamSeed, false);
        if (!ok) return;
        which %= 4;
        address[] memory subs = market.subscribersOf(id);
        if (which == 0) {
            amount = bound(amount, 1, 20e18);
            _ensureBalance(client, amount);
            vm.prank(client);
            market.topUp(id, amount);
            ghostDeposited[id] += amount;
            done["topUp"]++;
        } else if (which == 1) {
            // to a Sybil as often as to the honest ones: what the Sybils hold is drained at once
            if (s.deposit == 0 || subs.length == 0) return;
            vm.prank(client);
            market.increaseAllowance(id, subs[amount % subs.length], bound(amount >> 8, 1, s.deposit));
            done["allowanceIncreased"]++;
        } else if (which == 2) {
            // what a gateway does: every subscriber gets an equal share of the unreserved deposit
            if (s.deposit < subs.length || subs.length == 0) return;
            uint256 share = s.deposit / subs.length;
            for (uint256 i; i < subs.length; ++i) {
                vm.prank(client);
                market.increaseAllowance(id, subs[i], share);
            }
            done["allowanceIncreased"]++;
        } else {
            address h;
            uint256 sure;
            for (uint256 i; i < HONEST && sure == 0; ++i) {
                h = honest[(amount % HONEST + i) % HONEST];
                sure = market.surelyRedeemable(id, h);
            }
            if (sure == 0) return;
            vm.prank(client);
            market.requestAllowanceDecrease(id, h, bound(amount >> 8, 1, sure));
            decreasesAnnounced++;
        }
    }

    /// @dev Anyone applies every allowance decrease whose notice is over.
    function _finishDecreases() internal {
        for (uint256 i; i < streams.length; ++i) {
            uint256 id = streams[i];
            if (!_open(market.getStream(id))) continue;
            address[] memory subs = market.subscribersOf(id);
            for (uint256 j; j < subs.length; ++j) {
                IStreamMarket.Subscription memory a = market.subscription(id, subs[j]);
                if (a.pendingDecrease == 0 || block.timestamp < a.decreaseAt) continue;
                market.finishAllowanceDecrease(id, subs[j]);
                done["allowanceDecreased"]++;
            }
        }
    }

    /// @notice The client starts closing a stream (1 time in 8), or anyone finalizes a close.
    function closing(uint256 streamSeed, uint256 which) external act {
        if (which % 8 == 0) {
            (bool ok, uint256 id,) = _pickStream(streamSeed, true);
            if (!ok) return;
            vm.prank(client);
            market.close(id);
            done["close"]++;
            return;
        }
        for (uint256 i; i < streams.length; ++i) {
            uint256 id = streams[(streamSeed % streams.length + i) % streams.length];
            IStreamMarket.Stream memory s = market.getStream(id);
            if (s.status != IStreamMarket.StreamStatus.Closing || block.timestamp < s.closeAt || s.openDisputes != 0) {
                continue;
            }
            _finalizeClose(id);
            return;
        }
    }

    function _finalizeClose(uint256 id) internal {
        uint256 refund = market.getStream(id).deposit + reservedOf(id);
        market.finalizeClose(id);
        ghostPaidOut[id] += refund;
        for (uint256 j; j < HONEST; ++j) {
            address h = honest[j];
            if (!ghostVoided[id][h] && market.redeemed(id, h) < ghostServed[id][h]) {
                _break("a stream closed owing an honest provider what it served within the guarantee");
            }
        }
        done["finalizeClose"]++;
    }

    /// @notice The client or a Sybil disputes an honest provider's last receipt (attack 2): the
    ///         council is whatever the market seats; the Sybils on it judge the receipt invalid.
    function dispute(uint256 streamSeed, uint256 who) external act {
        (bool ok, uint256 id, IStreamMarket.Stream memory s) = _pickStream(streamSeed, false);
        if (!ok || (s.status == IStreamMarket.StreamStatus.Closing && block.timestamp >= s.closeAt)) return;
        if ((who >> 8) % 3 != 0) return; // a dispute costs the client a bond: 1 call in 3
        if (s.subscriberCount < 2) return;
        address h = honest[who % HONEST];
        IStreamMarket.Receipt memory r = _receipt[id][h];
        if (r.streamId == 0 || !_subscribed(id, h) || market.subscription(id, h).openDispute != 0) return;
        if (_disputed[_receiptDigest(r)]) return;
        // the client, or one of its Sybils (anyone may dispute, with a bond; the disputer sits out)
        address disputer = (who >> 16) % 2 == 0 ? client : sybils[(who >> 24) % SYBILS];
        _ensureBalance(disputer, s.disputeBond);
        vm.prank(disputer);
        uint256 disputeId = market.openDispute(h, r, _receiptSig[id][h], "ipfs://evidence");
        if (disputer != client) done["sybilDisputes"]++;
        _disputed[_receiptDigest(r)] = true;
        disputes.push(disputeId);
        ghostOpenBonds += s.disputeBond;
        done["disputeHonest"]++;
    }

    // ================================================================== the Sybils

    /// @notice A Sybil redeems a voucher the client over-signed for it (1,000 oGPU more than
    ///         it redeemed), draining whatever the stream holds that is not reserved for others.
    function sybilRedeem(uint256 streamSeed, uint256 who) external act {
        (bool ok, uint256 id, IStreamMarket.Stream memory s) = _pickStream(streamSeed, false);
        if (!ok) return;
        address y = sybils[who % SYBILS];
        if (s.deposit == 0 && market.subscription(id, y).allowance == 0) return;
        _sign(id, y, market.redeemed(id, y) + 1_000e18);
        _redeem(id, y, ghostSigned[id][y], _voucher[id][y]);
        sybilRedeems++;
    }

    /// @notice The Sybils seated on a dispute judge the honest receipt invalid; 1 time in 4 they
    ///         commit and never reveal.
    function collude(uint256 disputeSeed, uint256 mode) external act {
        uint256 n = disputes.length;
        for (uint256 i; i < n; ++i) {
            uint256 disputeId = disputes[(disputeSeed % n + i) % n];
            IStreamMarket.Dispute memory d = market.getDispute(disputeId);
            if (d.state != IStreamMarket.DisputeState.Open) continue;
            for (uint256 s; s < d.council.length; ++s) {
                if (!isSybil(d.council[s])) continue;
                uint8 did = _vote(disputeId, d.council[s], false, mode % 4 != 0);
                if (did == 1) done["colludeCommit"]++;
                if (did == 2) done["colludeReveal"]++;
            }
            return;
        }
    }

    // ================================================================== anyone

    /// @notice An honest provider redeems whenever it likes, or anyone finalizes a dispute that is over.
    function poke(uint256 streamSeed, uint256 which) external act {
        if (which % 2 == 0) {
            (bool ok, uint256 id,) = _pickStream(streamSeed, false);
            if (ok) _honestRedeem(id, honest[(which >> 8) % HONEST]);
            return;
        }
        for (uint256 i; i < disputes.length; ++i) {
            uint256 disputeId = disputes[(streamSeed % disputes.length + i) % disputes.length];
            IStreamMarket.Dispute memory d = market.getDispute(disputeId);
            if (d.state != IStreamMarket.DisputeState.Open) continue;
            if (block.timestamp < d.revealEnd && d.reveals != d.council.length) continue;
            _finalizeDispute(disputeId);
            return;
        }
    }

    function warp(uint256 secs, uint256 blocks) external {
        currentTime += bound(secs, 0, 30);
        currentBlock += bound(blocks, 1, 5);
    }

    // ================================================================== disputes and the rules

    function _finalizeDispute(uint256 disputeId) internal {
        IStreamMarket.Dispute memory d = market.getDispute(disputeId);
        address h = d.provider;
        uint256 honestSeats;
        uint256[] memory stakeBefore = new uint256[](d.council.length);
        uint256[] memory lockedBefore = new uint256[](d.council.length);
        for (uint256 s; s < d.council.length; ++s) {
            if (isHonest(d.council[s])) honestSeats++;
            stakeBefore[s] = registry.stakeOf(d.council[s]).staked;
            lockedBefore[s] = registry.stakeOf(d.council[s]).locked;
            if (d.council[s] == h) _break("the accused sat on its own council");
        }
        uint256 accusedStake = registry.stakeOf(h).staked;
        market.finalizeDispute(disputeId);
        ghostOpenBonds -= d.bond;
        try market.finalizeDispute(disputeId) {
            _break("a dispute was settled twice");
        } catch {}
        bool invalid = market.getDispute(disputeId).state == IStreamMarket.DisputeState.Invalid;
        bool captured = honestSeats * 2 <= d.council.length;
        councilsJudged++;
        if (captured) captures++;
        uint256 loss = accusedStake - registry.stakeOf(h).staked;
        if (invalid) {
            if (!captured) _break("an honest receipt judged invalid by an honest-majority council");
            ghostCapturedLoss[h] += loss;
            ghostVoided[d.streamId][h] = true;
            honestRemovedByCapture++;
        } else {
            if (loss != 0) _break("an honest provider lost stake on a valid receipt");
            honestDisputesWon++;
        }
        IStreamMarket.Stream memory st = market.getStream(d.streamId);
        for (uint256 s; s < d.council.length; ++s) {
            address v = d.council[s];
            bool revealed = market.verdictOf(disputeId, v).revealed;
            uint256 due = revealed ? 0 : st.nonRevealSlash; // out of the seat's own lock
            if (stakeBefore[s] - registry.stakeOf(v).staked != due) _break("a seat lost other than its non-reveal slash");
            if (lockedBefore[s] - registry.stakeOf(v).locked != st.collateral) _break("a seat's lock was not released");
            if (v == d.disputer) _break("the disputer sat on the council");
        }
        done[invalid ? bytes32("invalid") : bytes32("valid")]++;
    }

    // ================================================================== helpers

    function _ensureFree(address p, uint256 amount) internal returns (bool) {
        uint256 free = registry.freeStakeOf(p);
        if (free >= amount) return true;
        uint256 missing = amount - free;
        if (token.balanceOf(p) < missing) return false;
        vm.prank(p);
        registry.stake(missing);
        if (isHonest(p)) ghostHonestStaked[p] += missing;
        return true;
    }

    function _ensureBalance(address who, uint256 amount) internal {
        uint256 balance = token.balanceOf(who);
        if (balance >= amount) return;
        vm.prank(admin);
        token.mint(who, amount - balance + 100e18);
    }

    /// @notice The allowances left on the stream (kept after a subscription ends until released),
    ///         over every provider of the campaign: with the unreserved deposit, the stream's funds.
    function reservedOf(uint256 id) public view returns (uint256 total) {
        for (uint256 i; i < SYBILS; ++i) {
            total += market.subscription(id, sybils[i]).allowance;
        }
        for (uint256 i; i < HONEST; ++i) {
            total += market.subscription(id, honest[i]).allowance;
        }
    }

    function _digest(bytes32 structHash) internal view returns (bytes32) {
        return keccak256(abi.encodePacked("\x19\x01", market.DOMAIN_SEPARATOR(), structHash));
    }

    function _receiptDigest(IStreamMarket.Receipt memory r) internal view returns (bytes32) {
        return _digest(
            keccak256(
                abi.encode(RECEIPT_TYPEHASH, r.streamId, r.requestId, r.responseHash, r.promptTokens, r.completionTokens)
            )
        );
    }

    function _signWith(uint256 key, bytes32 digest) internal pure returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(key, digest);
        return abi.encodePacked(r, s, v);
    }

    function _break(string memory why) internal {
        if (!ghostBroken) broken = why;
        ghostBroken = true;
    }

    /// @notice Ends everything as time passes in 30 s steps (honest duties keep running, the
    ///         adversaries stay silent): every dispute is settled, every stream closed.
    function settleEverything() external {
        for (uint256 round; round < 1_000; ++round) {
            currentTime += 30;
            currentBlock += 2;
            vm.warp(currentTime);
            vm.roll(currentBlock);
            _honestDuties();
            bool running;
            for (uint256 i; i < streams.length; ++i) {
                uint256 id = streams[i];
                IStreamMarket.Stream memory s = market.getStream(id);
                if (s.status == IStreamMarket.StreamStatus.Active) {
                    vm.prank(client);
                    market.close(id);
                    running = true;
                } else if (s.status == IStreamMarket.StreamStatus.Closing) {
                    running = true;
                    if (block.timestamp >= s.closeAt && s.openDisputes == 0) _finalizeClose(id);
                }
            }
            for (uint256 i; i < disputes.length; ++i) {
                IStreamMarket.Dispute memory d = market.getDispute(disputes[i]);
                if (d.state == IStreamMarket.DisputeState.Seating) running = true; // seated by the duties
                if (d.state != IStreamMarket.DisputeState.Open) continue;
                running = true;
                if (block.timestamp >= d.revealEnd) _finalizeDispute(disputes[i]);
            }
            if (!running) return;
        }
        revert("settleEverything: streams still running");
    }

    function selectors() external pure returns (bytes4[] memory s) {
        s = new bytes4[](9);
        s[0] = this.create.selector;
        s[1] = this.request.selector;
        s[2] = this.funds.selector;
        s[3] = this.closing.selector;
        s[4] = this.dispute.selector;
        s[5] = this.sybilRedeem.selector;
        s[6] = this.collude.selector;
        s[7] = this.poke.selector;
        s[8] = this.warp.selector;
    }
}
