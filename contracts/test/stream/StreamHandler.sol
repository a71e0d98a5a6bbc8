// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {CommonBase} from "../utils/Test.sol";
import {OGPUToken} from "../../src/OGPUToken.sol";
import {ProviderRegistry} from "../../src/ProviderRegistry.sol";
import {IStreamMarket} from "../../src/interfaces/IStreamMarket.sol";
import {IProviderRegistry} from "../../src/interfaces/IProviderRegistry.sol";

/// @notice Drives StreamMarket for the invariant campaign. Actors: two clients (create, with or
///         without permit; top up; change prices; sign a voucher after each response; dispute the
///         last receipt of a subscriber; close), eight registered providers with keys, and time.
///         Provider roles: 0-2 honest; 3 a contrarian voter (always votes against the truth);
///         4-5 cheaters (their responses are wrong, so honest voters judge them invalid); 6 a lazy
///         voter that commits and never reveals; 7 one that never even commits. Clients dispute
///         honest responses too (the provider then wins the bond). Providers subscribe, serve
///         (sign receipts), redeem their latest voucher (alone or batched over their streams),
///         try to redeem more than they were signed or an old voucher (must fail), request and
///         finish unsubscribing. Clients reserve parts of their deposits for single subscribers
///         (allowances), announce decreases and apply them after the notice; every redeem of a
///         voucher that surelyRedeemable covered must be paid in full. Anyone seats disputes (a
///         council drawn from the model's staked pool a block later, re-anchored past 256 blocks,
///         dropped when the pool is too small; seating in the draw block must fail), finalizes
///         disputes and closes; providers join and leave the council pools of the three models;
///         stakers stake, unbond and
///         claim; impostors try to vote or close where they may not, and the accused to dispute
///         itself. Clients, strangers and other providers dispute (with the bond). Each action looks for a
///         stream or dispute where it is possible and skips impossible ones, so the campaign runs
///         with fail_on_revert: any revert is a bug. Ghost variables follow every deposit and
///         every voucher.
contract StreamHandler is CommonBase {
    bytes32 internal constant PERMIT_TYPEHASH =
        keccak256("Permit(address owner,address spender,uint256 value,uint256 nonce,uint256 deadline)");
    bytes32 internal constant VOUCHER_TYPEHASH =
        keccak256("Voucher(uint256 streamId,address provider,uint256 cumulativeAmount)");
    bytes32 internal constant RECEIPT_TYPEHASH = keccak256(
        "Receipt(uint256 streamId,bytes32 requestId,bytes32 responseHash,uint32 promptTokens,uint32 completionTokens)"
    );
    /// @notice Most streams per run, and most streams running at once (Active or Closing).
    uint256 public constant MAX_STREAMS = 16;
    uint256 public constant MAX_RUNNING = 4;
    uint256 internal constant PROVIDERS = 8;

    IStreamMarket public immutable market;
    ProviderRegistry public immutable registry;
    OGPUToken public immutable token;
    address public immutable admin;

    address[] public clients;
    mapping(address => uint256) internal _keyOf;
    address[] public providers;
    uint256[] public streams;
    uint256[] public disputes;

    /// @notice Time and block the campaign has reached (vm.warp/roll do not carry over between calls).
    uint256 public currentTime;
    uint256 public currentBlock;

    // ghosts
    mapping(uint256 streamId => uint256) public ghostDeposited; // into the deposit (create + top-ups)
    mapping(uint256 streamId => uint256) public ghostPaidOut; // out of the deposit (vouchers + refund)
    /// @notice The largest cumulative amount the client signed for (stream, provider).
    mapping(uint256 streamId => mapping(address provider => uint256)) public ghostSigned;
    /// @notice What (stream, provider) redeems transferred to the provider.
    mapping(uint256 streamId => mapping(address provider => uint256)) public ghostReceived;
    mapping(uint256 streamId => mapping(address provider => bytes)) internal _latestVoucher;
    /// @notice The providers the client signed a voucher for, per stream (the only ones a redeem
    ///         can pay: any other redeem attempt is one that must fail, and is checked to).
    mapping(uint256 streamId => address[]) internal _voucherHolders;
    /// @notice The providers that ever subscribed to each stream (the only ones the market can
    ///         hold collateral of on it).
    mapping(uint256 streamId => address[]) internal _everSubscribed;
    mapping(uint256 streamId => mapping(address provider => bool)) internal _subscribedOnce;
    mapping(uint256 streamId => mapping(address provider => uint256)) internal _responses;
    mapping(uint256 streamId => mapping(address provider => IStreamMarket.Receipt)) internal _lastReceipt;
    mapping(uint256 streamId => mapping(address provider => bytes)) internal _lastReceiptSig;
    /// @notice The response hash an honest provider returns for a request.
    mapping(bytes32 requestId => bytes32) internal _truth;
    /// @notice Receipts disputed so far (by digest).
    mapping(bytes32 digest => bool) internal _disputed;
    /// @notice Bonds of the disputes opened and not yet finalized or dropped.
    uint256 public ghostOpenBonds;
    /// @notice The models of the campaign's streams (their council pools).
    bytes32[3] public models;
    /// @notice Set if a redeem above what the client signed, or of an old voucher, went through.
    bool public ghostOverRedeemed;
    /// @notice Set if a redeem owed no more than surelyRedeemable and was paid less.
    bool public ghostShortPaid;
    /// @notice Set if a non-member voted, a non-client disputed or closed, or a settlement ran twice.
    bool public ghostUnauthorized;

    /// @notice Actions that went through, by name (the campaign's coverage).
    mapping(bytes32 => uint256) public done;

    constructor(IStreamMarket market_, ProviderRegistry registry_, OGPUToken token_, address admin_) {
        market = market_;
        registry = registry_;
        token = token_;
        admin = admin_;
        for (uint256 i; i < 2; ++i) {
            (address c, uint256 k) = makeAddrAndKey(string.concat("sclient", vm.toString(i)));
            clients.push(c);
            _keyOf[c] = k;
        }
        for (uint256 i; i < PROVIDERS; ++i) {
            (address p, uint256 k) = makeAddrAndKey(string.concat("sprovider", vm.toString(i)));
            providers.push(p);
            _keyOf[p] = k;
        }
        for (uint256 m; m < 3; ++m) {
            models[m] = keccak256(abi.encode("model", m));
        }
        currentTime = block.timestamp;
        // The providers join the council pools in the deploying block (the invariant test's
        // setUp): the campaign starts a block later, so that every draw finds them in the pool.
        currentBlock = block.number + 1;
    }

    modifier useTime() {
        vm.warp(currentTime);
        vm.roll(currentBlock);
        _;
    }

    // ================================================================== views for the tests

    /// @notice The stream's allowances left, summed over its subscribers.
    function reservedOf(uint256 id) public view returns (uint256 total) {
        address[] memory subs = market.subscribersOf(id);
        for (uint256 i; i < subs.length; ++i) {
            total += market.subscription(id, subs[i]).allowance;
        }
    }

    function streamCount() external view returns (uint256) {
        return streams.length;
    }

    function disputeCount() external view returns (uint256) {
        return disputes.length;
    }

    function everSubscribed(uint256 streamId) external view returns (address[] memory) {
        return _everSubscribed[streamId];
    }

    function voucherHolders(uint256 streamId) external view returns (address[] memory) {
        return _voucherHolders[streamId];
    }

    function providerCount() external pure returns (uint256) {
        return PROVIDERS;
    }

    function clientCount() external view returns (uint256) {
        return clients.length;
    }

    // ================================================================== roles

    function isCheater(address p) public view returns (bool) {
        return p == providers[4] || p == providers[5];
    }

    function isContrarian(address p) public view returns (bool) {
        return p == providers[3];
    }

    function neverReveals(address p) public view returns (bool) {
        return p == providers[6] || p == providers[7];
    }

    function neverCommits(address p) public view returns (bool) {
        return p == providers[7];
    }

    // ================================================================== picking

    enum Want {
        Active,
        Open, // Active or Closing
        Closable, // Closing, notice over, no open dispute
        Disputable // Active, or Closing before closeAt
    }

    function _pickStream(uint256 seed, Want want)
        internal
        view
        returns (bool ok, uint256 id, IStreamMarket.Stream memory s)
    {
        uint256 n = streams.length;
        for (uint256 i; i < n; ++i) {
            id = streams[(seed % n + i) % n];
            s = market.getStream(id);
            if (_eligible(want, s)) return (true, id, s);
        }
        return (false, 0, s);
    }

    function _eligible(Want want, IStreamMarket.Stream memory s) internal view returns (bool) {
        bool active = s.status == IStreamMarket.StreamStatus.Active;
        bool closing = s.status == IStreamMarket.StreamStatus.Closing;
        if (want == Want.Active) return active;
        if (want == Want.Open) return active || closing;
        if (want == Want.Closable) return closing && block.timestamp >= s.closeAt && s.openDisputes == 0;
        return active || (closing && block.timestamp < s.closeAt);
    }

    function _running() internal view returns (uint256 n) {
        for (uint256 i; i < streams.length; ++i) {
            IStreamMarket.StreamStatus st = market.getStream(streams[i]).status;
            if (st == IStreamMarket.StreamStatus.Active || st == IStreamMarket.StreamStatus.Closing) ++n;
        }
    }

    /// @dev A subscriber of the stream (Active or Unsubscribing), starting from a random one.
    function _pickSubscriber(uint256 id, uint256 seed) internal view returns (bool, address) {
        address[] memory subs = market.subscribersOf(id);
        if (subs.length == 0) return (false, address(0));
        return (true, subs[seed % subs.length]);
    }

    // ================================================================== clients

    function create(uint256 clientSeed, uint256 seed, bool withPermit) external useTime {
        if (streams.length >= MAX_STREAMS || _running() >= MAX_RUNNING) return;
        address c = clients[clientSeed % clients.length];
        IStreamMarket.StreamParams memory p = _params(seed);
        _ensureBalance(c, p.deposit);
        uint256 before = token.balanceOf(address(market));
        uint256 id;
        if (withPermit) {
            (uint8 v, bytes32 r, bytes32 s) = _permit(c, p.deposit, block.timestamp + 1 hours);
            vm.prank(c);
            id = market.createWithPermit(p, block.timestamp + 1 hours, v, r, s);
            vm.prank(c);
            token.approve(address(market), type(uint256).max); // the permit replaced the allowance
            done["createWithPermit"]++;
        } else {
            vm.prank(c);
            id = market.create(p);
        }
        streams.push(id);
        ghostDeposited[id] = token.balanceOf(address(market)) - before;
        done["create"]++;
    }

    function _params(uint256 seed) internal pure returns (IStreamMarket.StreamParams memory p) {
        uint256[12] memory r;
        for (uint256 i; i < r.length; ++i) {
            r[i] = uint256(keccak256(abi.encode(seed, i)));
        }
        p.modelHash = keccak256(abi.encode("model", seed % 3));
        p.specHash = keccak256(abi.encode("terms", seed));
        p.specUri = "ipfs://terms";
        p.pricePerKTokenGenerated = r[0] % 1e18;
        p.pricePerKTokenVerified = r[1] % 1e17;
        p.councilSize = uint8(1 + r[2] % 4);
        p.responseMethod = IStreamMarket.ResponseMethod(r[3] % 3);
        if (p.responseMethod == IStreamMarket.ResponseMethod.Weighted) p.weightBps = uint16(1 + r[3] % 10_000);
        p.collateral = 1e18 + r[4] % 20e18;
        p.maxDowntime = uint32(1 + r[5] % 600);
        p.unsubscribeNotice = uint32(60 + r[6] % 900);
        p.closeNotice = uint32(60 + r[7] % 900);
        p.commitWindow = uint32(120 + r[8] % 480);
        p.revealWindow = uint32(120 + r[9] % 480);
        p.disputeBond = 1e18 + r[10] % 5e18;
        p.deposit = r[11] % 4 == 0 ? 0 : r[11] % 60e18;
    }

    /// @notice Someone (a client, the stream's or not, or a provider) tops a stream up.
    function topUp(uint256 streamSeed, uint256 amount, uint256 whoSeed) external useTime {
        (bool ok, uint256 id,) = _pickStream(streamSeed, Want.Open);
        if (!ok) return;
        amount = bound(amount, 1, 40e18);
        address who = whoSeed % 3 == 0 ? providers[whoSeed % PROVIDERS] : clients[whoSeed % clients.length];
        _ensureBalance(who, amount);
        if (token.allowance(who, address(market)) < amount) {
            vm.prank(who);
            token.approve(address(market), type(uint256).max);
        }
        if (whoSeed % 5 == 0) {
            (uint8 v, bytes32 r, bytes32 s) = _permit(who, amount, block.timestamp + 1 hours);
            vm.prank(who);
            market.topUpWithPermit(id, amount, block.timestamp + 1 hours, v, r, s);
            vm.prank(who);
            token.approve(address(market), type(uint256).max);
        } else {
            vm.prank(who);
            market.topUp(id, amount);
        }
        ghostDeposited[id] += amount;
        done["topUp"]++;
    }

    function updateTerms(uint256 streamSeed, uint256 gen, uint256 ver) external useTime {
        (bool ok, uint256 id, IStreamMarket.Stream memory s) = _pickStream(streamSeed, Want.Active);
        if (!ok) return;
        vm.prank(s.client);
        market.updateTerms(id, gen % 2e18, ver % 2e17);
        done["updateTerms"]++;
    }

    /// @notice The client reserves part of the deposit for a subscriber, announces a decrease of
    ///         an allowance, or anyone applies a decrease whose notice is over (and one whose
    ///         notice is not, which must fail).
    function allowance(uint256 streamSeed, uint256 providerSeed, uint256 amount) external useTime {
        (bool ok, uint256 id, IStreamMarket.Stream memory s) = _pickStream(streamSeed, Want.Open);
        if (!ok) return;
        address p;
        (ok, p) = _pickSubscriber(id, providerSeed);
        if (!ok) return;
        uint256 mode = amount % 4; // 2 and 3: apply
        if (mode == 0) {
            if (s.deposit == 0) return;
            vm.prank(s.client);
            market.increaseAllowance(id, p, bound(amount >> 8, 1, s.deposit));
            done["allowanceIncreased"]++;
            // half the time the client changes its mind at once and announces a decrease of part of it
            uint256 sure = market.surelyRedeemable(id, p);
            if ((amount >> 128) % 2 == 0 && sure != 0) {
                vm.prank(s.client);
                market.requestAllowanceDecrease(id, p, bound(amount >> 64, 1, sure));
                done["allowanceDecreaseRequested"]++;
            }
        } else if (mode == 1) {
            // a subscriber with something left to decrease, starting from the picked one
            address[] memory subs = market.subscribersOf(id);
            for (uint256 i; i < subs.length; ++i) {
                address q = subs[(providerSeed % subs.length + i) % subs.length];
                uint256 decreasable = market.surelyRedeemable(id, q);
                if (decreasable == 0) continue;
                vm.prank(s.client);
                market.requestAllowanceDecrease(id, q, bound(amount >> 8, 1, decreasable));
                done["allowanceDecreaseRequested"]++;
                return;
            }
        } else {
            _finishDecrease(id);
        }
    }

    /// @dev Applies a due decrease of a subscriber of any open stream, the picked one first, if
    ///      there is one; tries those not due yet, which must fail.
    function _finishDecrease(uint256 first) internal {
        uint256 n = streams.length;
        for (uint256 k; k <= n; ++k) {
            uint256 id = k == 0 ? first : streams[k - 1];
            IStreamMarket.StreamStatus st = market.getStream(id).status;
            if (st != IStreamMarket.StreamStatus.Active && st != IStreamMarket.StreamStatus.Closing) continue;
            address[] memory subs = market.subscribersOf(id);
            for (uint256 i; i < subs.length; ++i) {
                uint64 decreaseAt = market.subscription(id, subs[i]).decreaseAt;
                if (decreaseAt == 0) continue;
                if (block.timestamp < decreaseAt) {
                    try market.finishAllowanceDecrease(id, subs[i]) {
                        ghostUnauthorized = true; // decreased before the notice was over
                    } catch {}
                    continue;
                }
                market.finishAllowanceDecrease(id, subs[i]);
                done["allowanceDecreased"]++;
                return;
            }
        }
    }

    /// @notice The client closes (1 time in 6), or anyone finalizes a close whose notice is over.
    function poke(uint256 streamSeed, uint256 which) external useTime {
        if (which % 6 == 0) {
            (bool ok, uint256 id, IStreamMarket.Stream memory s) = _pickStream(streamSeed, Want.Active);
            if (!ok) return;
            vm.prank(s.client);
            market.close(id);
            done["close"]++;
        } else {
            (bool ok, uint256 id,) = _pickStream(streamSeed, Want.Closable);
            if (!ok) return;
            _finalizeClose(id);
        }
    }

    function _finalizeClose(uint256 id) internal {
        IStreamMarket.Stream memory s = market.getStream(id);
        uint256 refund = s.deposit + reservedOf(id);
        market.finalizeClose(id);
        ghostPaidOut[id] += refund;
        done["finalizeClose"]++;
        // a stream closes once
        try market.finalizeClose(id) {
            ghostUnauthorized = true;
        } catch {}
    }

    // ================================================================== providers

    function subscribe(uint256 streamSeed, uint256 providerSeed) external useTime {
        (bool ok, uint256 id, IStreamMarket.Stream memory s) = _pickStream(streamSeed, Want.Active);
        if (!ok) return;
        for (uint256 i; i < PROVIDERS; ++i) {
            address p = providers[(providerSeed % PROVIDERS + i) % PROVIDERS];
            if (market.subscription(id, p).status != IStreamMarket.SubscriptionStatus.None) continue;
            uint256 free = registry.freeStakeOf(p);
            if (free < s.collateral) {
                uint256 missing = s.collateral - free;
                if (token.balanceOf(p) < missing) continue;
                vm.prank(p);
                registry.stake(missing);
            }
            vm.prank(p);
            market.subscribe(id);
            if (!_subscribedOnce[id][p]) {
                _subscribedOnce[id][p] = true;
                _everSubscribed[id].push(p);
            }
            done["subscribe"]++;
            return;
        }
    }

    /// @notice A subscriber requests to leave, or finishes leaving once it may.
    function unsubscribe(uint256 streamSeed, uint256 providerSeed) external useTime {
        (bool ok, uint256 id,) = _pickStream(streamSeed, Want.Open);
        if (!ok) return;
        address p;
        (ok, p) = _pickSubscriber(id, providerSeed);
        if (!ok) return;
        IStreamMarket.Subscription memory sub = market.subscription(id, p);
        if (sub.status == IStreamMarket.SubscriptionStatus.Active) {
            if (providerSeed % 3 != 0) return; // leave less often than join
            vm.prank(p);
            market.requestUnsubscribe(id);
            done["requestUnsubscribe"]++;
            return;
        }
        bool free = block.timestamp >= sub.noticeEnd && sub.openDispute == 0;
        vm.prank(p);
        if (free) {
            market.finishUnsubscribe(id);
            done["finishUnsubscribe"]++;
        } else {
            try market.finishUnsubscribe(id) {
                ghostUnauthorized = true; // left early, or while a dispute holds it
            } catch {}
        }
    }

    /// @notice Subscribers answer one to four requests: each signs a receipt (cheaters return a
    ///         wrong response), and the client signs the next cumulative voucher for it.
    function serve(uint256 streamSeed, uint256 providerSeed, uint256 tokens) external useTime {
        (bool ok, uint256 id, IStreamMarket.Stream memory s) = _pickStream(streamSeed, Want.Active);
        if (!ok) return;
        for (uint256 k; k <= tokens % 4; ++k) {
            address p;
            (ok, p) = _pickSubscriber(id, providerSeed >> (8 * k));
            if (!ok) return;
            _serve(id, p, s, bound(tokens >> (16 * k), 1, 20_000));
        }
    }

    function _serve(uint256 id, address p, IStreamMarket.Stream memory s, uint256 tokens) internal {
        uint256 n = ++_responses[id][p];
        bytes32 requestId = keccak256(abi.encode(id, p, n));
        bytes32 right = keccak256(abi.encode("right", requestId));
        _truth[requestId] = right;
        IStreamMarket.Receipt memory r = IStreamMarket.Receipt({
            streamId: id,
            requestId: requestId,
            responseHash: isCheater(p) ? keccak256(abi.encode("wrong", requestId)) : right,
            promptTokens: uint32(tokens / 2 + 1),
            completionTokens: uint32(tokens)
        });
        _lastReceipt[id][p] = r;
        _lastReceiptSig[id][p] = _sign(_keyOf[p], _receiptDigest(r));
        if (ghostSigned[id][p] == 0) _voucherHolders[id].push(p);
        uint256 cumulative = ghostSigned[id][p] + 1 + tokens * s.pricePerKTokenGenerated / 1_000;
        ghostSigned[id][p] = cumulative;
        _latestVoucher[id][p] = _sign(_keyOf[s.client], _voucherDigest(id, p, cumulative));
        done["serve"]++;
    }

    /// @notice A provider redeems: its latest voucher on one stream, or all its outstanding
    ///         vouchers at once; first it tries an old voucher and a forged one, which must fail.
    function redeem(uint256 streamSeed, uint256 providerSeed, uint256 mode) external useTime {
        address p = providers[providerSeed % PROVIDERS];
        if (mode % 2 == 0) {
            _redeemMany(p);
            return;
        }
        (bool ok, uint256 id, IStreamMarket.Stream memory s) = _pickStream(streamSeed, Want.Open);
        if (!ok) return;
        uint256 signed = ghostSigned[id][p];
        uint256 redeemedBefore = market.redeemed(id, p);
        _tryCheating(id, p, s.client, signed, redeemedBefore);
        uint256 allowanceLeft = market.subscription(id, p).allowance;
        if (signed <= redeemedBefore || (s.deposit == 0 && allowanceLeft == 0)) return;
        uint256 sure = market.surelyRedeemable(id, p);
        uint256 balanceBefore = token.balanceOf(p);
        vm.prank(p);
        uint256 paid = market.redeem(id, signed, _latestVoucher[id][p]);
        _booked(id, p, redeemedBefore, balanceBefore, paid);
        if (signed - redeemedBefore <= sure && paid != signed - redeemedBefore) ghostShortPaid = true;
        if (allowanceLeft != 0) done["paidFromAllowance"]++;
        if (market.redeemed(id, p) < signed) done["partialRedeem"]++;
        done["redeem"]++;
    }

    function _redeemMany(address p) internal {
        IStreamMarket.Redemption[] memory rs = new IStreamMarket.Redemption[](streams.length);
        uint256[] memory before = new uint256[](streams.length);
        uint256 n;
        for (uint256 i; i < streams.length; ++i) {
            uint256 id = streams[i];
            IStreamMarket.Stream memory s = market.getStream(id);
            bool open = s.status == IStreamMarket.StreamStatus.Active || s.status == IStreamMarket.StreamStatus.Closing;
            uint256 signed = ghostSigned[id][p];
            uint256 allowanceLeft = market.subscription(id, p).allowance;
            if (!open || (s.deposit == 0 && allowanceLeft == 0) || signed <= market.redeemed(id, p)) continue;
            if (allowanceLeft != 0) done["paidFromAllowance"]++;
            before[n] = market.redeemed(id, p);
            rs[n++] = IStreamMarket.Redemption({streamId: id, cumulativeAmount: signed, signature: _latestVoucher[id][p]});
        }
        if (n == 0) return;
        assembly ("memory-safe") {
            mstore(rs, n)
        }
        uint256 balanceBefore = token.balanceOf(p);
        vm.prank(p);
        uint256 paid = market.redeemMany(rs);
        uint256 sum;
        for (uint256 i; i < n; ++i) {
            uint256 delta = market.redeemed(rs[i].streamId, p) - before[i];
            ghostPaidOut[rs[i].streamId] += delta;
            ghostReceived[rs[i].streamId][p] += delta;
            sum += delta;
            if (market.redeemed(rs[i].streamId, p) < rs[i].cumulativeAmount) done["partialRedeem"]++;
        }
        if (sum != paid || token.balanceOf(p) - balanceBefore != paid) ghostOverRedeemed = true;
        done["redeemMany"]++;
    }

    /// @dev Books a single redeem and checks that the transfer matches the provider's new total.
    function _booked(uint256 id, address p, uint256 redeemedBefore, uint256 balanceBefore, uint256 paid) internal {
        uint256 delta = market.redeemed(id, p) - redeemedBefore;
        if (delta != paid || token.balanceOf(p) - balanceBefore != paid) ghostOverRedeemed = true;
        ghostPaidOut[id] += paid;
        ghostReceived[id][p] += paid;
    }

    /// @dev Redeeming more than the client signed (with the client's latest signature, or with
    ///      the provider's own), or an amount already redeemed, must fail.
    function _tryCheating(uint256 id, address p, address client, uint256 signed, uint256 redeemedBefore) internal {
        bytes memory latest = _latestVoucher[id][p];
        vm.prank(p);
        try market.redeem(id, signed + 1, latest) {
            ghostOverRedeemed = true;
        } catch {}
        bytes memory own = _sign(_keyOf[p], _voucherDigest(id, p, signed + 1e18));
        vm.prank(p);
        try market.redeem(id, signed + 1e18, own) {
            ghostOverRedeemed = true;
        } catch {}
        if (redeemedBefore != 0) {
            bytes memory old = _sign(_keyOf[client], _voucherDigest(id, p, redeemedBefore));
            vm.prank(p);
            try market.redeem(id, redeemedBefore, old) {
                ghostOverRedeemed = true;
            } catch {}
        }
    }

    // ================================================================== disputes

    /// @notice The client disputes a subscriber's last response (whether it was right or not).
    function openDispute(uint256 streamSeed, uint256 providerSeed) external useTime {
        (bool ok, uint256 id, IStreamMarket.Stream memory s) = _pickStream(streamSeed, Want.Disputable);
        if (!ok || s.subscriberCount == 0) return;
        address[] memory subs = market.subscribersOf(id);
        for (uint256 i; i < subs.length; ++i) {
            address p = subs[(providerSeed % subs.length + i) % subs.length];
            IStreamMarket.Receipt memory r = _lastReceipt[id][p];
            if (r.streamId == 0 || market.subscription(id, p).openDispute != 0) continue;
            if (_disputed[_receiptDigest(r)]) continue;
            address disputer = _disputer(s, p, providerSeed >> 128);
            _ensureBalance(disputer, s.disputeBond);
            vm.prank(disputer);
            uint256 disputeId = market.openDispute(p, r, _lastReceiptSig[id][p], "ipfs://evidence");
            if (disputer != s.client) done["disputeByOther"]++;
            disputes.push(disputeId);
            _disputed[_receiptDigest(r)] = true;
            ghostOpenBonds += s.disputeBond;
            done[r.responseHash == _truth[r.requestId] ? bytes32("disputeHonest") : bytes32("disputeCheater")]++;
            return;
        }
    }

    /// @dev Who disputes `accused`'s receipt: the client (1 time in 3), the other client (a
    ///      stranger to the stream), or a provider other than the accused (subscribed or not).
    function _disputer(IStreamMarket.Stream memory s, address accused, uint256 seed)
        internal
        view
        returns (address)
    {
        uint256 mode = seed % 3;
        if (mode == 1) return clients[0] == s.client ? clients[1] : clients[0];
        if (mode == 2) {
            address q = providers[(seed >> 8) % PROVIDERS];
            if (q != accused) return q;
        }
        return s.client;
    }

    function _pickDispute(uint256 seed, bool wantCommit, bool wantReveal, bool wantFinal)
        internal
        view
        returns (bool, uint256, IStreamMarket.Dispute memory d)
    {
        uint256 n = disputes.length;
        for (uint256 i; i < n; ++i) {
            uint256 disputeId = disputes[(seed % n + i) % n];
            d = market.getDispute(disputeId);
            if (d.state != IStreamMarket.DisputeState.Open) continue;
            uint256 seats = d.council.length;
            if (wantCommit && block.timestamp < d.commitEnd) return (true, disputeId, d);
            bool revealing = (block.timestamp >= d.commitEnd || d.commits == seats) && block.timestamp < d.revealEnd;
            if (wantReveal && revealing) return (true, disputeId, d);
            if (wantFinal && (block.timestamp >= d.revealEnd || d.reveals == seats)) return (true, disputeId, d);
        }
        return (false, 0, d);
    }

    /// @notice Anyone seats a dispute waiting for its council, from the block after its draw
    ///         block (first it tries one still in its draw block, which must fail): the council is
    ///         seated and locked, or the draw re-anchored (past 256 blocks), or the dispute dropped
    ///         for too small a pool (bond back).
    function seatDispute(uint256 disputeSeed) external useTime {
        uint256 n = disputes.length;
        for (uint256 i; i < n; ++i) {
            uint256 disputeId = disputes[(disputeSeed % n + i) % n];
            IStreamMarket.Dispute memory d = market.getDispute(disputeId);
            if (d.state != IStreamMarket.DisputeState.Seating) continue;
            if (block.number <= d.drawBlock) {
                try market.seatDispute(disputeId) {
                    ghostUnauthorized = true; // seated before its draw block's hash was known
                } catch {}
                continue;
            }
            _seat(disputeId, d);
            return;
        }
    }

    function _seat(uint256 disputeId, IStreamMarket.Dispute memory d) internal {
        market.seatDispute(disputeId);
        IStreamMarket.DisputeState state = market.getDispute(disputeId).state;
        if (state == IStreamMarket.DisputeState.Seating) {
            done["reanchored"]++;
        } else if (state == IStreamMarket.DisputeState.NoCouncil) {
            ghostOpenBonds -= d.bond;
            done["dropped"]++;
        } else {
            done["seated"]++;
        }
        try market.seatDispute(disputeId) {
            ghostUnauthorized = true; // seated twice, or re-anchored twice in one block
        } catch {}
    }

    /// @notice A provider joins the council pool of one of the campaign's models, or leaves it.
    function councilDuty(uint256 providerSeed, uint256 modelSeed) external useTime {
        address p = providers[providerSeed % PROVIDERS];
        bytes32 model = models[modelSeed % 3];
        (bool member,) = registry.councilPositionOf(model, p);
        vm.prank(p);
        if (member) {
            registry.leaveCouncil(model);
            done["leaveCouncil"]++;
        } else {
            registry.joinCouncil(model);
            done["joinCouncil"]++;
        }
    }

    function _verdict(address voter, IStreamMarket.Dispute memory d) internal view returns (bool) {
        bool right = d.receipt.responseHash == _truth[d.receipt.requestId];
        return isContrarian(voter) ? !right : right;
    }

    /// @dev The commitment a council member submits (IStreamMarket.commitVerdict's formula).
    function _verdictCommitment(uint256 disputeId, bool accept, bytes32 salt, address voter)
        internal
        view
        returns (bytes32)
    {
        return keccak256(abi.encode(block.chainid, address(market), disputeId, accept, salt, voter));
    }

    function _salt(address voter, uint256 disputeId) internal pure returns (bytes32) {
        return keccak256(abi.encode("salt", voter, disputeId));
    }

    /// @notice One to three council members of an open dispute commit their verdict.
    function commitVerdict(uint256 disputeSeed, uint256 seatSeed) external useTime {
        (bool ok, uint256 disputeId, IStreamMarket.Dispute memory d) = _pickDispute(disputeSeed, true, false, false);
        if (!ok) return;
        uint256 left = 1 + seatSeed % 3;
        for (uint256 i; i < d.council.length && left != 0; ++i) {
            address voter = d.council[(seatSeed % d.council.length + i) % d.council.length];
            if (neverCommits(voter) || market.verdictOf(disputeId, voter).committed) continue;
            bytes32 c = _verdictCommitment(disputeId, _verdict(voter, d), _salt(voter, disputeId), voter);
            vm.prank(voter);
            market.commitVerdict(disputeId, c);
            done["commitVerdict"]++;
            --left;
        }
    }

    /// @notice One to three council members of an open dispute reveal their verdict.
    function revealVerdict(uint256 disputeSeed, uint256 seatSeed) external useTime {
        (bool ok, uint256 disputeId, IStreamMarket.Dispute memory d) = _pickDispute(disputeSeed, false, true, false);
        if (!ok) return;
        uint256 left = 1 + seatSeed % 3;
        for (uint256 i; i < d.council.length && left != 0; ++i) {
            address voter = d.council[(seatSeed % d.council.length + i) % d.council.length];
            IStreamMarket.Verdict memory v = market.verdictOf(disputeId, voter);
            if (neverReveals(voter) || !v.committed || v.revealed) continue;
            vm.prank(voter);
            market.revealVerdict(disputeId, _verdict(voter, d), _salt(voter, disputeId));
            done["revealVerdict"]++;
            --left;
        }
    }

    function finalizeDispute(uint256 disputeSeed) external useTime {
        (bool ok, uint256 disputeId, IStreamMarket.Dispute memory d) = _pickDispute(disputeSeed, false, false, true);
        if (!ok) return;
        _finalizeDispute(disputeId, d);
    }

    function _finalizeDispute(uint256 disputeId, IStreamMarket.Dispute memory d) internal {
        market.finalizeDispute(disputeId);
        ghostOpenBonds -= d.bond;
        IStreamMarket.Dispute memory closed = market.getDispute(disputeId);
        done[closed.state == IStreamMarket.DisputeState.Valid ? bytes32("valid") : bytes32("invalid")]++;
        if (closed.reveals < d.council.length) done["nonRevealSlashed"]++;
        try market.finalizeDispute(disputeId) {
            ghostUnauthorized = true;
        } catch {}
    }

    /// @notice Accounts without the right try to vote, dispute or close: it must always fail.
    function impostor(uint256 seed, uint256 actorSeed) external useTime {
        address a = actorSeed % 3 == 0 ? clients[actorSeed % clients.length] : providers[actorSeed % PROVIDERS];
        (bool ok, uint256 disputeId,) = _pickDispute(seed, true, true, true);
        if (ok && !market.verdictOf(disputeId, a).member) {
            vm.prank(a);
            try market.commitVerdict(disputeId, keccak256("forged")) {
                ghostUnauthorized = true;
            } catch {}
            vm.prank(a);
            try market.revealVerdict(disputeId, true, bytes32(0)) {
                ghostUnauthorized = true;
            } catch {}
        }
        uint256 id;
        IStreamMarket.Stream memory s;
        (ok, id, s) = _pickStream(seed, Want.Active);
        if (ok && a != s.client) {
            vm.prank(a);
            try market.close(id) {
                ghostUnauthorized = true;
            } catch {}
            address p = market.subscribersOf(id).length == 0 ? address(0) : market.subscribersOf(id)[0];
            if (p != address(0) && _lastReceipt[id][p].streamId == id) {
                // the accused disputing its own receipt
                vm.prank(p);
                try market.openDispute(p, _lastReceipt[id][p], _lastReceiptSig[id][p], "x") {
                    ghostUnauthorized = true;
                } catch {}
            }
        }
        done["impostor"]++;
    }

    // ================================================================== stakers and time

    /// @notice A provider stakes more, requests to unstake free stake, or claims its bucket.
    function staker(uint256 providerSeed, uint256 which, uint256 amount) external useTime {
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

    /// @notice Time passes; 1 time in 32, 300 blocks at once (past the 256 blocks of blockhash).
    function warp(uint256 secs, uint256 blocks) external {
        currentTime += bound(secs, 0, 180);
        currentBlock += blocks % 32 == 0 ? 300 : bound(blocks, 1, 20);
    }

    // ================================================================== helpers

    function _ensureBalance(address who, uint256 amount) internal {
        uint256 balance = token.balanceOf(who);
        if (balance < amount) {
            vm.prank(admin);
            token.mint(who, amount - balance + 100e18);
        }
    }

    function _permit(address owner, uint256 value, uint256 deadline) internal view returns (uint8, bytes32, bytes32) {
        bytes32 structHash =
            keccak256(abi.encode(PERMIT_TYPEHASH, owner, address(market), value, token.nonces(owner), deadline));
        return vm.sign(_keyOf[owner], keccak256(abi.encodePacked("\x19\x01", token.DOMAIN_SEPARATOR(), structHash)));
    }

    function _voucherDigest(uint256 id, address p, uint256 cumulative) internal view returns (bytes32) {
        bytes32 structHash = keccak256(abi.encode(VOUCHER_TYPEHASH, id, p, cumulative));
        return keccak256(abi.encodePacked("\x19\x01", market.DOMAIN_SEPARATOR(), structHash));
    }

    function _receiptDigest(IStreamMarket.Receipt memory r) internal view returns (bytes32) {
        bytes32 structHash = keccak256(
            abi.encode(RECEIPT_TYPEHASH, r.streamId, r.requestId, r.responseHash, r.promptTokens, r.completionTokens)
        );
        return keccak256(abi.encodePacked("\x19\x01", market.DOMAIN_SEPARATOR(), structHash));
    }

    function _sign(uint256 key, bytes32 digest) internal pure returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(key, digest);
        return abi.encodePacked(r, s, v);
    }

    /// @notice Ends everything as anyone could: finalizes every dispute, closes every stream and
    ///         finalizes the closes (time passing as needed). Used by afterInvariant.
    function settleEverything() external {
        // seat every dispute waiting for a council (twice: once to re-anchor, once to seat)
        for (uint256 pass; pass < 2; ++pass) {
            currentBlock += 1;
            vm.roll(currentBlock);
            for (uint256 i; i < disputes.length; ++i) {
                IStreamMarket.Dispute memory d = market.getDispute(disputes[i]);
                if (d.state == IStreamMarket.DisputeState.Seating) _seat(disputes[i], d);
            }
        }
        currentTime += 1 days;
        currentBlock += 100;
        vm.warp(currentTime);
        vm.roll(currentBlock);
        for (uint256 i; i < disputes.length; ++i) {
            IStreamMarket.Dispute memory d = market.getDispute(disputes[i]);
            if (d.state == IStreamMarket.DisputeState.Open) _finalizeDispute(disputes[i], d);
        }
        for (uint256 i; i < streams.length; ++i) {
            IStreamMarket.Stream memory s = market.getStream(streams[i]);
            if (s.status == IStreamMarket.StreamStatus.Active) {
                vm.prank(s.client);
                market.close(streams[i]);
            }
        }
        currentTime += 1 days;
        vm.warp(currentTime);
        for (uint256 i; i < streams.length; ++i) {
            if (market.getStream(streams[i]).status == IStreamMarket.StreamStatus.Closing) _finalizeClose(streams[i]);
        }
    }

    /// @notice The selectors the campaign calls.
    function selectors() external pure returns (bytes4[] memory s) {
        s = new bytes4[](18);
        s[0] = this.create.selector;
        s[1] = this.topUp.selector;
        s[2] = this.updateTerms.selector;
        s[3] = this.poke.selector;
        s[4] = this.subscribe.selector;
        s[5] = this.unsubscribe.selector;
        s[6] = this.serve.selector;
        s[7] = this.redeem.selector;
        s[8] = this.openDispute.selector;
        s[9] = this.commitVerdict.selector;
        s[10] = this.revealVerdict.selector;
        s[11] = this.finalizeDispute.selector;
        s[12] = this.impostor.selector;
        s[13] = this.staker.selector;
        s[14] = this.warp.selector;
        s[15] = this.allowance.selector;
        s[16] = this.seatDispute.selector;
        s[17] = this.councilDuty.selector;
    }
}
