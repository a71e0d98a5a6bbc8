// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Test} from "../utils/Test.sol";
import {StreamHandler} from "./StreamHandler.sol";
import {OGPUToken} from "../../src/OGPUToken.sol";
import {ProviderRegistry} from "../../src/ProviderRegistry.sol";
import {IStreamMarket} from "../../src/interfaces/IStreamMarket.sol";
import {IProviderRegistry} from "../../src/interfaces/IProviderRegistry.sol";

/// @notice Invariants of PROTOCOL.md for the stream market: tokens are conserved across clients,
///         providers, market and registry; a provider never redeems more than the client signed, and
///         always gets in full what surelyRedeemable covered;
///         a closed stream holds no funds and no locks (nothing stuck); locks in the registry
///         equal the market's own ledger (subscription collateral, plus the stream's collateral
///         per council seat of every seated dispute not yet finalized) and never exceed stake;
///         only council members vote, no dispute is seated early or twice, and only the client closes. Each invariant runs its own campaign of
///         runs x depth = 50 x 200 = 10,000 handler calls (see foundry.toml), checked after every
///         call; afterInvariant then ends every dispute and stream and empties market and registry.
contract StreamMarketInvariantTest is Test {
    OGPUToken internal token;
    ProviderRegistry internal registry;
    IStreamMarket internal market;
    StreamHandler internal handler;
    address internal admin;
    address[] internal providers; // the handler's, cached: the checks run after every call

    function setUp() public {
        vm.warp(1_700_000_000);
        vm.roll(1_000);
        admin = makeAddr("admin");
        token = new OGPUToken(admin);
        registry = new ProviderRegistry(token, 1 hours, admin);
        IStreamMarket.Config memory cfg = IStreamMarket.Config({
            maxCouncilSize: 16,
            nonRevealSlashBps: 1_000,
            voterRewardBps: 5_000,
            minCollateral: 1e18,
            minDisputeBond: 1e18,
            minNotice: 60,
            maxNotice: 7 days,
            minVerdictWindow: 60,
            maxVerdictWindow: 7 days
        });
        market = IStreamMarket(vm.deployCode("StreamMarket.sol:StreamMarket", abi.encode(token, registry, admin, cfg)));
        bytes32 marketRole = registry.MARKET_ROLE();
        vm.prank(admin);
        registry.grantRole(marketRole, address(market));

        handler = new StreamHandler(market, registry, token, admin);
        for (uint256 i; i < handler.clientCount(); ++i) {
            address c = handler.clients(i);
            vm.prank(admin);
            token.mint(c, 2_000e18);
            vm.prank(c);
            token.approve(address(market), type(uint256).max);
        }
        for (uint256 i; i < handler.providerCount(); ++i) {
            address p = handler.providers(i);
            providers.push(p);
            vm.prank(admin);
            token.mint(p, 500e18);
            vm.startPrank(p);
            token.approve(address(registry), type(uint256).max);
            token.approve(address(market), type(uint256).max);
            registry.stake(100e18);
            registry.register("http://127.0.0.1:8080", bytes32(i));
            for (uint256 m; m < 3; ++m) {
                registry.joinCouncil(handler.models(m)); // dispute councils come from these pools
            }
            vm.stopPrank();
        }

        targetContract(address(handler));
        targetSelector(FuzzSelector({addr: address(handler), selectors: handler.selectors()}));
    }

    /// @notice Every token is somewhere: the supply equals the balances of clients, providers,
    ///         market and registry; the market holds exactly the streams' deposits plus the bonds
    ///         of the disputes not yet finalized (ghost), and each deposit is what went in minus
    ///         what went out; the
    ///         registry holds exactly its stake.
    function invariant_tokensConserved() public view {
        uint256 marketBalance = token.balanceOf(address(market));
        uint256 registryBalance = token.balanceOf(address(registry));
        uint256 sum = marketBalance + registryBalance + token.balanceOf(admin) + token.balanceOf(address(handler));
        for (uint256 i; i < handler.clientCount(); ++i) {
            sum += token.balanceOf(handler.clients(i));
        }
        for (uint256 i; i < providers.length; ++i) {
            sum += token.balanceOf(providers[i]);
        }
        vm.assertEq(sum, token.totalSupply(), "sum of balances != totalSupply");

        uint256 deposits;
        uint256 ghostHeld;
        for (uint256 i; i < handler.streamCount(); ++i) {
            uint256 id = handler.streams(i);
            IStreamMarket.Stream memory st = market.getStream(id);
            uint256 deposit = st.deposit + handler.reservedOf(id);
            deposits += deposit;
            ghostHeld += handler.ghostDeposited(id) - handler.ghostPaidOut(id);
            vm.assertEq(deposit, handler.ghostDeposited(id) - handler.ghostPaidOut(id), "deposit + reserved != in - out");
        }
        uint256 bonds = handler.ghostOpenBonds();
        vm.assertEq(marketBalance, deposits + bonds, "market balance != deposits + allowances + open bonds");
        vm.assertEq(marketBalance, ghostHeld + bonds, "market balance != deposited - paid out + open bonds");
        vm.assertEq(registryBalance, registry.totalStaked() + registry.totalUnbonding(), "registry books");
    }

    /// @notice A provider never redeems more than the client signed for it (the largest voucher
    ///         the handler had the client sign), gets exactly its redeemed total, and neither a
    ///         forged, an inflated nor an old voucher ever paid; a closed stream holds no
    ///         deposit, no subscriber, no lock and no open dispute.
    function invariant_redeemsBoundedAndNothingStuck() public view {
        vm.assertFalse(handler.ghostOverRedeemed(), "a voucher paid more than signed, or twice");
        vm.assertFalse(handler.ghostShortPaid(), "a voucher within surelyRedeemable was not paid in full");
        for (uint256 i; i < handler.streamCount(); ++i) {
            uint256 id = handler.streams(i);
            // Providers without a voucher on the stream can only have tried forged ones (the
            // ghostOverRedeemed check above).
            address[] memory holders = handler.voucherHolders(id);
            for (uint256 j; j < holders.length; ++j) {
                address p = holders[j];
                uint256 r = market.redeemed(id, p);
                vm.assertLe(r, handler.ghostSigned(id, p), "redeemed more than the client signed");
                vm.assertEq(r, handler.ghostReceived(id, p), "paid != redeemed total");
            }
            IStreamMarket.Stream memory s = market.getStream(id);
            if (s.status != IStreamMarket.StreamStatus.Closed) continue;
            vm.assertEq(s.deposit, 0, "closed stream keeps a deposit");
            vm.assertEq(handler.reservedOf(id), 0, "closed stream keeps allowances");
            vm.assertEq(s.subscriberCount, 0, "closed stream keeps subscribers");
            vm.assertEq(market.subscribersOf(id).length, 0, "closed stream lists subscribers");
            vm.assertEq(s.openDisputes, 0, "closed stream with an open dispute");
            address[] memory subs = handler.everSubscribed(id);
            for (uint256 j; j < subs.length; ++j) {
                vm.assertEq(market.subscription(id, subs[j]).locked, 0, "closed stream keeps collateral");
            }
        }
    }

    /// @notice Locked collateral never exceeds stake and equals what the market holds locked:
    ///         subscription collateral on its streams plus the stream's collateral per seat of every
    ///         seated dispute not yet finalized (its own ledger); nobody voted, disputed, closed,
    ///         seated or settled without the right or twice.
    function invariant_locksMatchLedgerAndAccess() public view {
        vm.assertFalse(handler.ghostUnauthorized(), "an unauthorized or repeated action went through");
        // The market's ledger per provider, over the (stream, provider) pairs that ever subscribed:
        // nobody else can have a lock on a stream (the locked collateral of a non-subscriber is 0 by construction).
        uint256 n = providers.length;
        uint256[] memory ledger = new uint256[](n);
        for (uint256 i; i < handler.streamCount(); ++i) {
            uint256 id = handler.streams(i);
            address[] memory subs = handler.everSubscribed(id);
            for (uint256 k; k < subs.length; ++k) {
                uint256 l = market.subscription(id, subs[k]).locked;
                if (l == 0) continue;
                for (uint256 j; j < n; ++j) {
                    if (providers[j] == subs[k]) ledger[j] += l;
                }
            }
        }
        // Every seat of a seated dispute not yet finalized holds the stream's collateral.
        for (uint256 i; i < handler.disputeCount(); ++i) {
            IStreamMarket.Dispute memory d = market.getDispute(handler.disputes(i));
            if (d.state != IStreamMarket.DisputeState.Open) continue;
            uint256 collateral = market.getStream(d.streamId).collateral;
            for (uint256 k; k < d.council.length; ++k) {
                for (uint256 j; j < n; ++j) {
                    if (providers[j] == d.council[k]) ledger[j] += collateral;
                }
            }
        }
        for (uint256 j; j < n; ++j) {
            IProviderRegistry.StakeInfo memory si = registry.stakeOf(providers[j]);
            vm.assertLe(si.locked, si.staked, "locked > staked");
            vm.assertEq(si.locked, ledger[j], "registry lock != market ledger");
        }
    }

    /// @notice The handler is not vacuous: driven by a pseudo-random sequence of 2,000 calls, it
    ///         reaches every path the invariants are about.
    function test_handlerReachesEveryPath() public {
        bytes4[] memory sel = handler.selectors();
        for (uint256 i; i < 2_000; ++i) {
            uint256 r = uint256(keccak256(abi.encode("stream campaign", i)));
            bytes4 s = sel[r % sel.length];
            uint256 third = s == StreamHandler.create.selector ? (r >> 32) % 2 : r >> 24; // create's third is a bool
            (bool ok,) = address(handler).call(abi.encodePacked(s, abi.encode(r >> 8, r >> 16, third)));
            vm.assertTrue(ok, "handler call reverted");
        }
        string[31] memory paths = [
            "create",
            "createWithPermit",
            "topUp",
            "updateTerms",
            "subscribe",
            "requestUnsubscribe",
            "finishUnsubscribe",
            "serve",
            "redeem",
            "partialRedeem",
            "redeemMany",
            "disputeHonest",
            "disputeCheater",
            "commitVerdict",
            "revealVerdict",
            "valid",
            "invalid",
            "nonRevealSlashed",
            "close",
            "finalizeClose",
            "impostor",
            "allowanceIncreased",
            "allowanceDecreaseRequested",
            "allowanceDecreased",
            "paidFromAllowance",
            "disputeByOther",
            "seated",
            "dropped",
            "reanchored",
            "joinCouncil",
            "leaveCouncil"
        ];
        for (uint256 i; i < paths.length; ++i) {
            vm.assertGt(handler.done(bytes32(bytes(paths[i]))), 0, string.concat("never reached: ", paths[i]));
        }
    }

    /// @notice After each run every dispute can be finalized and every stream closed by anyone,
    ///         which empties the market and releases every lock; then every provider can take
    ///         its whole stake out.
    function afterInvariant() external {
        handler.settleEverything();
        vm.assertEq(token.balanceOf(address(market)), 0, "tokens stuck in the market");
        uint256 t = handler.currentTime();
        vm.warp(t);
        for (uint256 j; j < handler.providerCount(); ++j) {
            address p = handler.providers(j);
            vm.assertEq(registry.stakeOf(p).locked, 0, "collateral still locked");
            uint256 free = registry.freeStakeOf(p);
            if (free != 0) {
                vm.prank(p);
                registry.requestUnstake(free);
            }
        }
        vm.warp(t + 1 hours);
        for (uint256 j; j < handler.providerCount(); ++j) {
            address p = handler.providers(j);
            if (registry.stakeOf(p).unbonding != 0) {
                vm.prank(p);
                registry.claim();
            }
        }
        vm.assertEq(token.balanceOf(address(registry)), 0, "tokens stuck in the registry");
    }
}
