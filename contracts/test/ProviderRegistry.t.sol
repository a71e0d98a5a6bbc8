// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Errors} from "@openzeppelin/contracts/interfaces/draft-IERC6093.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";

import {ProviderRegistry} from "../src/ProviderRegistry.sol";
import {IProviderRegistry} from "../src/interfaces/IProviderRegistry.sol";
import {RegistryFixture} from "./utils/RegistryFixture.sol";
import {MockERC20} from "./utils/MockERC20.sol";

contract ProviderRegistryTest is RegistryFixture {
    string internal constant ENDPOINT = "https://gpu.example:8443";
    bytes32 internal constant INFO = keccak256("info");

    // ================================================================== constructor

    function test_constructor_setsState() public view {
        vm.assertEq(address(registry.token()), address(token));
        vm.assertEq(registry.unbondingPeriod(), PERIOD);
        vm.assertTrue(registry.hasRole(registry.DEFAULT_ADMIN_ROLE(), admin));
        vm.assertEq(registry.MARKET_ROLE(), keccak256("MARKET_ROLE"));
        vm.assertEq(registry.MAX_UNBONDING_PERIOD(), 365 days);
        vm.assertEq(registry.MAX_ENDPOINT_LENGTH(), 256);
        vm.assertEq(registry.totalStaked(), 0);
        vm.assertEq(registry.totalUnbonding(), 0);
    }

    function test_constructor_emitsUnbondingPeriodUpdated() public {
        vm.expectEmit();
        emit IProviderRegistry.UnbondingPeriodUpdated(0, 3 minutes);
        new ProviderRegistry(token, 3 minutes, admin);
    }

    function test_constructor_acceptsMaxPeriod() public {
        ProviderRegistry r = new ProviderRegistry(token, 365 days, admin);
        vm.assertEq(r.unbondingPeriod(), 365 days);
    }

    function test_constructor_revertsOnZeroToken() public {
        vm.expectRevert(abi.encodeWithSelector(IProviderRegistry.ProviderRegistryInvalidToken.selector, address(0)));
        new ProviderRegistry(IERC20(address(0)), PERIOD, admin);
    }

    function test_constructor_revertsOnZeroAdmin() public {
        vm.expectRevert(abi.encodeWithSelector(IProviderRegistry.ProviderRegistryInvalidAdmin.selector, address(0)));
        new ProviderRegistry(token, PERIOD, address(0));
    }

    function test_constructor_revertsOnPeriodTooLong() public {
        vm.expectRevert(
            abi.encodeWithSelector(
                IProviderRegistry.ProviderRegistryUnbondingPeriodTooLong.selector, uint64(365 days + 1), uint64(365 days)
            )
        );
        new ProviderRegistry(token, 365 days + 1, admin);
    }

    // ================================================================== register

    function test_register_storesProviderAndEmits() public {
        vm.expectEmit(address(registry));
        emit IProviderRegistry.ProviderRegistered(alice, ENDPOINT, INFO);
        vm.prank(alice);
        registry.register(ENDPOINT, INFO);

        vm.assertTrue(registry.isRegistered(alice));
        IProviderRegistry.Provider memory p = registry.providerOf(alice);
        vm.assertEq(p.endpoint, ENDPOINT);
        vm.assertEq(p.infoHash, INFO);
        vm.assertTrue(p.registered);
        vm.assertEq(p.registeredAt, START);
    }

    function test_register_withoutStake() public {
        _register(alice);
        vm.assertTrue(registry.isRegistered(alice));
        vm.assertEq(_stakeOf(alice).staked, 0);
    }

    function test_register_afterStake() public {
        _stake(alice, 10e18);
        _register(alice);
        vm.assertTrue(registry.isRegistered(alice));
        vm.assertEq(_stakeOf(alice).staked, 10e18);
    }

    function test_register_acceptsMaxLengthEndpoint() public {
        string memory ep = string(new bytes(256));
        vm.prank(alice);
        registry.register(ep, INFO);
        vm.assertEq(bytes(registry.providerOf(alice).endpoint).length, 256);
    }

    function test_register_revertsWhenAlreadyRegistered() public {
        _register(alice);
        vm.expectRevert(
            abi.encodeWithSelector(IProviderRegistry.ProviderRegistryAlreadyRegistered.selector, alice)
        );
        vm.prank(alice);
        registry.register(ENDPOINT, INFO);
    }

    function test_register_revertsOnEmptyEndpoint() public {
        vm.expectRevert(abi.encodeWithSelector(IProviderRegistry.ProviderRegistryInvalidEndpoint.selector, 0, 256));
        vm.prank(alice);
        registry.register("", INFO);
    }

    function test_register_revertsOnTooLongEndpoint() public {
        string memory ep = string(new bytes(257));
        vm.expectRevert(abi.encodeWithSelector(IProviderRegistry.ProviderRegistryInvalidEndpoint.selector, 257, 256));
        vm.prank(alice);
        registry.register(ep, INFO);
    }

    function test_register_againAfterDeregister() public {
        _register(alice);
        vm.prank(alice);
        registry.deregister();
        vm.warp(START + 100);
        vm.prank(alice);
        registry.register("https://other", bytes32(uint256(2)));
        IProviderRegistry.Provider memory p = registry.providerOf(alice);
        vm.assertEq(p.endpoint, "https://other");
        vm.assertEq(p.registeredAt, START + 100);
    }

    function testFuzz_register_endpointLength(uint256 len) public {
        len = bound(len, 0, 600);
        string memory ep = string(new bytes(len));
        if (len == 0 || len > 256) {
            vm.expectRevert(
                abi.encodeWithSelector(IProviderRegistry.ProviderRegistryInvalidEndpoint.selector, len, 256)
            );
        }
        vm.prank(alice);
        registry.register(ep, INFO);
        vm.assertEq(registry.isRegistered(alice), len != 0 && len <= 256);
    }

    // ================================================================== updateProvider

    function test_updateProvider_updatesAndEmits() public {
        _register(alice);
        vm.warp(START + 50);
        bytes32 info2 = keccak256("info2");
        vm.expectEmit(address(registry));
        emit IProviderRegistry.ProviderUpdated(alice, "https://new", info2);
        vm.prank(alice);
        registry.updateProvider("https://new", info2);

        IProviderRegistry.Provider memory p = registry.providerOf(alice);
        vm.assertEq(p.endpoint, "https://new");
        vm.assertEq(p.infoHash, info2);
        vm.assertEq(p.registeredAt, START, "registeredAt unchanged");
    }

    function test_updateProvider_revertsWhenNotRegistered() public {
        vm.expectRevert(abi.encodeWithSelector(IProviderRegistry.ProviderRegistryNotRegistered.selector, alice));
        vm.prank(alice);
        registry.updateProvider(ENDPOINT, INFO);
    }

    function test_updateProvider_revertsOnEmptyEndpoint() public {
        _register(alice);
        vm.expectRevert(abi.encodeWithSelector(IProviderRegistry.ProviderRegistryInvalidEndpoint.selector, 0, 256));
        vm.prank(alice);
        registry.updateProvider("", INFO);
    }

    function test_updateProvider_revertsOnTooLongEndpoint() public {
        _register(alice);
        vm.expectRevert(abi.encodeWithSelector(IProviderRegistry.ProviderRegistryInvalidEndpoint.selector, 300, 256));
        vm.prank(alice);
        registry.updateProvider(string(new bytes(300)), INFO);
    }

    // ================================================================== deregister

    function test_deregister_clearsAndEmits() public {
        _stake(alice, 10e18);
        _register(alice);
        vm.expectEmit(address(registry));
        emit IProviderRegistry.ProviderDeregistered(alice);
        vm.prank(alice);
        registry.deregister();

        vm.assertFalse(registry.isRegistered(alice));
        IProviderRegistry.Provider memory p = registry.providerOf(alice);
        vm.assertEq(p.endpoint, "");
        vm.assertEq(p.infoHash, bytes32(0));
        vm.assertFalse(p.registered);
        vm.assertEq(p.registeredAt, 0);
        // stake stays, and can still leave
        vm.assertEq(_stakeOf(alice).staked, 10e18);
        vm.prank(alice);
        registry.requestUnstake(10e18);
    }

    function test_deregister_revertsWhenNotRegistered() public {
        vm.expectRevert(abi.encodeWithSelector(IProviderRegistry.ProviderRegistryNotRegistered.selector, alice));
        vm.prank(alice);
        registry.deregister();
    }

    function test_deregister_revertsWhileLocked() public {
        _stake(alice, 10e18);
        _register(alice);
        _lock(alice, 3e18);
        vm.expectRevert(
            abi.encodeWithSelector(IProviderRegistry.ProviderRegistryCollateralLocked.selector, alice, 3e18)
        );
        vm.prank(alice);
        registry.deregister();
    }

    // ================================================================== stake

    function test_stake_pullsTokensAndEmits() public {
        vm.expectEmit(address(registry));
        emit IProviderRegistry.Staked(alice, 10e18, 10e18);
        vm.expectEmit(address(token));
        emit IERC20.Transfer(alice, address(registry), 10e18);
        _stake(alice, 10e18);

        vm.expectEmit(address(registry));
        emit IProviderRegistry.Staked(alice, 5e18, 15e18);
        _stake(alice, 5e18);

        vm.assertEq(_stakeOf(alice).staked, 15e18);
        vm.assertEq(registry.freeStakeOf(alice), 15e18);
        vm.assertEq(registry.totalStaked(), 15e18);
        vm.assertEq(token.balanceOf(address(registry)), 15e18);
        vm.assertEq(token.balanceOf(alice), FUNDS - 15e18);
    }

    function test_stake_addsToTotalAcrossAccounts() public {
        _stake(alice, 10e18);
        _stake(bob, 7e18);
        vm.assertEq(registry.totalStaked(), 17e18);
    }

    function test_stake_revertsOnZero() public {
        vm.expectRevert(abi.encodeWithSelector(IProviderRegistry.ProviderRegistryZeroAmount.selector));
        _stake(alice, 0);
    }

    function test_stake_revertsWithoutAllowance() public {
        vm.prank(alice);
        token.approve(address(registry), 1e18);
        vm.expectRevert(
            abi.encodeWithSelector(IERC20Errors.ERC20InsufficientAllowance.selector, address(registry), 1e18, 2e18)
        );
        _stake(alice, 2e18);
    }

    function test_stake_revertsWithoutBalance() public {
        vm.expectRevert(
            abi.encodeWithSelector(IERC20Errors.ERC20InsufficientBalance.selector, alice, FUNDS, FUNDS + 1)
        );
        _stake(alice, FUNDS + 1);
    }

    function test_stake_revertsPastUint96() public {
        MockERC20 big = new MockERC20();
        ProviderRegistry r = new ProviderRegistry(big, PERIOD, admin);
        uint256 max = type(uint96).max;
        big.mint(alice, max + 1);
        vm.startPrank(alice);
        big.approve(address(r), type(uint256).max);
        r.stake(max);
        vm.expectRevert(abi.encodeWithSelector(SafeCast.SafeCastOverflowedUintDowncast.selector, 96, max + 1));
        r.stake(1);
        vm.stopPrank();
    }

    function test_stake_revertsOnReentrancy() public {
        MockERC20 evil = new MockERC20();
        ProviderRegistry r = new ProviderRegistry(evil, PERIOD, admin);
        evil.mint(alice, 10e18);
        vm.prank(alice);
        evil.approve(address(r), type(uint256).max);
        evil.setHook(address(r), abi.encodeCall(IProviderRegistry.stake, (1e18)));
        vm.expectRevert(abi.encodeWithSelector(ReentrancyGuardTransient.ReentrancyGuardReentrantCall.selector));
        vm.prank(alice);
        r.stake(1e18);
    }

    function testFuzz_stake(uint256 a, uint256 b) public {
        a = bound(a, 1, FUNDS / 2);
        b = bound(b, 1, FUNDS / 2);
        _stake(alice, a);
        _stake(alice, b);
        vm.assertEq(_stakeOf(alice).staked, a + b);
        vm.assertEq(registry.totalStaked(), a + b);
        vm.assertEq(token.balanceOf(address(registry)), a + b);
    }

    // ================================================================== stakeWithPermit

    function test_stakeWithPermit_noPriorApproval() public {
        vm.prank(alice);
        token.approve(address(registry), 0);
        uint256 deadline = block.timestamp + 1 hours;
        (uint8 v, bytes32 r, bytes32 s) = _signPermit(aliceKey, alice, 10e18, deadline);

        vm.expectEmit(address(registry));
        emit IProviderRegistry.Staked(alice, 10e18, 10e18);
        vm.prank(alice);
        registry.stakeWithPermit(10e18, deadline, v, r, s);

        vm.assertEq(_stakeOf(alice).staked, 10e18);
        vm.assertEq(token.nonces(alice), 1);
        vm.assertEq(token.allowance(alice, address(registry)), 0);
    }

    function test_stakeWithPermit_survivesFrontRunPermit() public {
        vm.prank(alice);
        token.approve(address(registry), 0);
        uint256 deadline = block.timestamp + 1 hours;
        (uint8 v, bytes32 r, bytes32 s) = _signPermit(aliceKey, alice, 10e18, deadline);
        // someone submits the permit first: the allowance is set, the nonce consumed
        vm.prank(stranger);
        token.permit(alice, address(registry), 10e18, deadline, v, r, s);

        vm.prank(alice);
        registry.stakeWithPermit(10e18, deadline, v, r, s);
        vm.assertEq(_stakeOf(alice).staked, 10e18);
    }

    function test_stakeWithPermit_badPermitWithoutAllowanceReverts() public {
        vm.prank(alice);
        token.approve(address(registry), 0);
        uint256 deadline = block.timestamp + 1 hours;
        // signed by bob's key for alice: the permit fails, so the transfer has no allowance
        (uint8 v, bytes32 r, bytes32 s) = _signPermit(bobKey, alice, 10e18, deadline);
        vm.expectRevert(
            abi.encodeWithSelector(IERC20Errors.ERC20InsufficientAllowance.selector, address(registry), 0, 10e18)
        );
        vm.prank(alice);
        registry.stakeWithPermit(10e18, deadline, v, r, s);
    }

    function test_stakeWithPermit_expiredPermitWithoutAllowanceReverts() public {
        vm.prank(alice);
        token.approve(address(registry), 0);
        uint256 deadline = block.timestamp - 1;
        (uint8 v, bytes32 r, bytes32 s) = _signPermit(aliceKey, alice, 10e18, deadline);
        vm.expectRevert(
            abi.encodeWithSelector(IERC20Errors.ERC20InsufficientAllowance.selector, address(registry), 0, 10e18)
        );
        vm.prank(alice);
        registry.stakeWithPermit(10e18, deadline, v, r, s);
    }

    function test_stakeWithPermit_revertsOnZero() public {
        vm.expectRevert(abi.encodeWithSelector(IProviderRegistry.ProviderRegistryZeroAmount.selector));
        vm.prank(alice);
        registry.stakeWithPermit(0, block.timestamp, 0, bytes32(0), bytes32(0));
    }

    function testFuzz_stakeWithPermit(uint256 amount, uint256 ttl) public {
        amount = bound(amount, 1, FUNDS);
        ttl = bound(ttl, 0, 365 days);
        vm.prank(alice);
        token.approve(address(registry), 0);
        uint256 deadline = block.timestamp + ttl;
        (uint8 v, bytes32 r, bytes32 s) = _signPermit(aliceKey, alice, amount, deadline);
        vm.prank(alice);
        registry.stakeWithPermit(amount, deadline, v, r, s);
        vm.assertEq(_stakeOf(alice).staked, amount);
        vm.assertEq(token.balanceOf(alice), FUNDS - amount);
    }

    // ================================================================== requestUnstake

    function test_requestUnstake_movesToBucketAndEmits() public {
        _stake(alice, 10e18);
        uint64 end = uint64(START + PERIOD);
        vm.expectEmit(address(registry));
        emit IProviderRegistry.UnstakeRequested(alice, 4e18, 4e18, end);
        vm.prank(alice);
        registry.requestUnstake(4e18);

        IProviderRegistry.StakeInfo memory si = _stakeOf(alice);
        vm.assertEq(si.staked, 6e18);
        vm.assertEq(si.unbonding, 4e18);
        vm.assertEq(si.unbondingEnd, end);
        vm.assertEq(registry.totalStaked(), 6e18);
        vm.assertEq(registry.totalUnbonding(), 4e18);
        vm.assertEq(token.balanceOf(address(registry)), 10e18, "tokens stay until claimed");
    }

    function test_requestUnstake_secondRequestAddsAndRestartsClock() public {
        _stake(alice, 10e18);
        vm.prank(alice);
        registry.requestUnstake(4e18);
        vm.warp(START + 1 days);
        uint64 end = uint64(START + 1 days + PERIOD);
        vm.expectEmit(address(registry));
        emit IProviderRegistry.UnstakeRequested(alice, 1e18, 5e18, end);
        vm.prank(alice);
        registry.requestUnstake(1e18);

        IProviderRegistry.StakeInfo memory si = _stakeOf(alice);
        vm.assertEq(si.unbonding, 5e18);
        vm.assertEq(si.unbondingEnd, end);
        // the first part is not claimable at its original end any more
        vm.warp(START + PERIOD);
        vm.expectRevert(
            abi.encodeWithSelector(
                IProviderRegistry.ProviderRegistryUnbondingNotOver.selector, alice, end, uint64(START + PERIOD)
            )
        );
        vm.prank(alice);
        registry.claim();
    }

    function test_requestUnstake_revertsOnZero() public {
        _stake(alice, 10e18);
        vm.expectRevert(abi.encodeWithSelector(IProviderRegistry.ProviderRegistryZeroAmount.selector));
        vm.prank(alice);
        registry.requestUnstake(0);
    }

    function test_requestUnstake_revertsAboveStake() public {
        _stake(alice, 10e18);
        vm.expectRevert(
            abi.encodeWithSelector(
                IProviderRegistry.ProviderRegistryInsufficientFreeStake.selector, alice, 10e18 + 1, 10e18
            )
        );
        vm.prank(alice);
        registry.requestUnstake(10e18 + 1);
    }

    function test_requestUnstake_revertsIntoLockedStake() public {
        _stake(alice, 10e18);
        _lock(alice, 7e18);
        vm.expectRevert(
            abi.encodeWithSelector(IProviderRegistry.ProviderRegistryInsufficientFreeStake.selector, alice, 4e18, 3e18)
        );
        vm.prank(alice);
        registry.requestUnstake(4e18);
        vm.prank(alice);
        registry.requestUnstake(3e18); // all the free stake is fine
        vm.assertEq(registry.freeStakeOf(alice), 0);
    }

    function test_requestUnstake_usesCurrentPeriod() public {
        _stake(alice, 10e18);
        vm.prank(admin);
        registry.setUnbondingPeriod(1 hours);
        vm.prank(alice);
        registry.requestUnstake(1e18);
        vm.assertEq(_stakeOf(alice).unbondingEnd, START + 1 hours);
    }

    // ================================================================== cancelUnstake

    function test_cancelUnstake_restoresStakeAndEmits() public {
        _stake(alice, 10e18);
        vm.prank(alice);
        registry.requestUnstake(4e18);
        vm.expectEmit(address(registry));
        emit IProviderRegistry.UnstakeCancelled(alice, 4e18, 10e18);
        vm.prank(alice);
        registry.cancelUnstake();

        IProviderRegistry.StakeInfo memory si = _stakeOf(alice);
        vm.assertEq(si.staked, 10e18);
        vm.assertEq(si.unbonding, 0);
        vm.assertEq(si.unbondingEnd, 0);
        vm.assertEq(registry.totalStaked(), 10e18);
        vm.assertEq(registry.totalUnbonding(), 0);
    }

    function test_cancelUnstake_afterEnd() public {
        _stake(alice, 10e18);
        vm.prank(alice);
        registry.requestUnstake(4e18);
        vm.warp(START + PERIOD + 1);
        vm.prank(alice);
        registry.cancelUnstake();
        vm.assertEq(_stakeOf(alice).staked, 10e18);
    }

    function test_cancelUnstake_revertsWhenNothingUnbonding() public {
        _stake(alice, 10e18);
        vm.expectRevert(abi.encodeWithSelector(IProviderRegistry.ProviderRegistryNothingToCancel.selector, alice));
        vm.prank(alice);
        registry.cancelUnstake();
    }

    // ================================================================== claim

    function test_claim_paysBucketAtEndAndEmits() public {
        _stake(alice, 10e18);
        vm.prank(alice);
        registry.requestUnstake(4e18);
        vm.warp(START + PERIOD); // exactly at the end
        vm.expectEmit(address(registry));
        emit IProviderRegistry.Claimed(alice, 4e18);
        vm.expectEmit(address(token));
        emit IERC20.Transfer(address(registry), alice, 4e18);
        vm.prank(alice);
        registry.claim();

        IProviderRegistry.StakeInfo memory si = _stakeOf(alice);
        vm.assertEq(si.staked, 6e18);
        vm.assertEq(si.unbonding, 0);
        vm.assertEq(si.unbondingEnd, 0);
        vm.assertEq(registry.totalUnbonding(), 0);
        vm.assertEq(token.balanceOf(alice), FUNDS - 6e18);
        vm.assertEq(token.balanceOf(address(registry)), 6e18);
    }

    function test_claim_revertsWhenNothingToClaim() public {
        vm.expectRevert(abi.encodeWithSelector(IProviderRegistry.ProviderRegistryNothingToClaim.selector, alice));
        vm.prank(alice);
        registry.claim();
    }

    function test_claim_revertsBeforeEnd() public {
        _stake(alice, 10e18);
        vm.prank(alice);
        registry.requestUnstake(4e18);
        vm.warp(START + PERIOD - 1);
        vm.expectRevert(
            abi.encodeWithSelector(
                IProviderRegistry.ProviderRegistryUnbondingNotOver.selector,
                alice,
                uint64(START + PERIOD),
                uint64(START + PERIOD - 1)
            )
        );
        vm.prank(alice);
        registry.claim();
    }

    function test_claim_twiceReverts() public {
        _stake(alice, 10e18);
        vm.prank(alice);
        registry.requestUnstake(4e18);
        vm.warp(START + PERIOD);
        vm.prank(alice);
        registry.claim();
        vm.expectRevert(abi.encodeWithSelector(IProviderRegistry.ProviderRegistryNothingToClaim.selector, alice));
        vm.prank(alice);
        registry.claim();
    }

    function test_claim_revertsOnReentrancy() public {
        MockERC20 evil = new MockERC20();
        ProviderRegistry r = new ProviderRegistry(evil, PERIOD, admin);
        evil.mint(alice, 10e18);
        vm.startPrank(alice);
        evil.approve(address(r), type(uint256).max);
        r.stake(10e18);
        r.requestUnstake(10e18);
        vm.stopPrank();
        vm.warp(START + PERIOD);
        evil.setHook(address(r), abi.encodeCall(IProviderRegistry.claim, ()));
        vm.expectRevert(abi.encodeWithSelector(ReentrancyGuardTransient.ReentrancyGuardReentrantCall.selector));
        vm.prank(alice);
        r.claim();
    }

    function testFuzz_unstakeClaimTiming(uint256 stakeAmt, uint256 unstakeAmt, uint256 wait) public {
        stakeAmt = bound(stakeAmt, 1, FUNDS);
        unstakeAmt = bound(unstakeAmt, 1, stakeAmt);
        wait = bound(wait, 0, 2 * uint256(PERIOD));
        _stake(alice, stakeAmt);
        vm.prank(alice);
        registry.requestUnstake(unstakeAmt);
        vm.warp(START + wait);
        if (wait < PERIOD) {
            vm.expectRevert(
                abi.encodeWithSelector(
                    IProviderRegistry.ProviderRegistryUnbondingNotOver.selector,
                    alice,
                    uint64(START + PERIOD),
                    uint64(START + wait)
                )
            );
            vm.prank(alice);
            registry.claim();
        } else {
            vm.prank(alice);
            registry.claim();
            vm.assertEq(token.balanceOf(alice), FUNDS - stakeAmt + unstakeAmt);
        }
        vm.assertEq(token.balanceOf(address(registry)), registry.totalStaked() + registry.totalUnbonding());
    }

    function testFuzz_requestRestartsClock(uint256 firstAt, uint256 secondAt) public {
        firstAt = bound(firstAt, 0, 30 days);
        secondAt = bound(secondAt, firstAt, firstAt + 30 days);
        _stake(alice, 10e18);
        vm.warp(START + firstAt);
        vm.prank(alice);
        registry.requestUnstake(1e18);
        vm.warp(START + secondAt);
        vm.prank(alice);
        registry.requestUnstake(2e18);
        uint64 end = uint64(START + secondAt + PERIOD);
        vm.assertEq(_stakeOf(alice).unbondingEnd, end);
        vm.warp(end - 1);
        vm.expectRevert(
            abi.encodeWithSelector(IProviderRegistry.ProviderRegistryUnbondingNotOver.selector, alice, end, end - 1)
        );
        vm.prank(alice);
        registry.claim();
        vm.warp(end);
        vm.prank(alice);
        registry.claim();
        vm.assertEq(token.balanceOf(alice), FUNDS - 7e18);
    }

    // ================================================================== lock / unlock

    function test_lock_locksFreeStakeAndEmits() public {
        _stake(alice, 10e18);
        vm.expectEmit(address(registry));
        emit IProviderRegistry.CollateralLocked(alice, market, 4e18, 4e18);
        _lock(alice, 4e18);
        vm.expectEmit(address(registry));
        emit IProviderRegistry.CollateralLocked(alice, market, 6e18, 10e18);
        _lock(alice, 6e18);

        IProviderRegistry.StakeInfo memory si = _stakeOf(alice);
        vm.assertEq(si.locked, 10e18);
        vm.assertEq(si.staked, 10e18);
        vm.assertEq(registry.freeStakeOf(alice), 0);
        vm.assertEq(registry.totalStaked(), 10e18, "locking does not change the totals");
    }

    function test_lock_revertsOnZero() public {
        _stake(alice, 10e18);
        vm.expectRevert(abi.encodeWithSelector(IProviderRegistry.ProviderRegistryZeroAmount.selector));
        _lock(alice, 0);
    }

    function test_lock_revertsAboveFreeStake() public {
        _stake(alice, 10e18);
        _lock(alice, 8e18);
        vm.expectRevert(
            abi.encodeWithSelector(IProviderRegistry.ProviderRegistryInsufficientFreeStake.selector, alice, 3e18, 2e18)
        );
        _lock(alice, 3e18);
    }

    function test_lock_ignoresUnbondingStake() public {
        _stake(alice, 10e18);
        vm.prank(alice);
        registry.requestUnstake(9e18);
        vm.expectRevert(
            abi.encodeWithSelector(IProviderRegistry.ProviderRegistryInsufficientFreeStake.selector, alice, 2e18, 1e18)
        );
        _lock(alice, 2e18);
    }

    function test_lock_revertsForNonMarket() public {
        _stake(alice, 10e18);
        bytes32 role = registry.MARKET_ROLE();
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, stranger, role)
        );
        vm.prank(stranger);
        registry.lock(alice, 1e18);
        // the provider cannot lock (or unlock) itself either
        vm.expectRevert(abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, alice, role));
        vm.prank(alice);
        registry.lock(alice, 1e18);
    }

    function test_lockRegistered_locksARegisteredProvider() public {
        _stake(alice, 10e18);
        _register(alice);
        vm.expectEmit(address(registry));
        emit IProviderRegistry.CollateralLocked(alice, market, 4e18, 4e18);
        vm.prank(market);
        registry.lockRegistered(alice, 4e18, address(0));
        vm.assertEq(_stakeOf(alice).locked, 4e18);
    }

    /// @notice An eviction: the released bidder's collateral comes back, then the new one's is locked.
    function test_lockRegistered_releasesThenLocks() public {
        _stake(alice, 10e18);
        _register(alice);
        _stake(bob, 10e18);
        _register(bob);
        _lock(bob, 4e18);
        vm.expectEmit(address(registry));
        emit IProviderRegistry.CollateralUnlocked(bob, market, 4e18, 0);
        vm.expectEmit(address(registry));
        emit IProviderRegistry.CollateralLocked(alice, market, 4e18, 4e18);
        vm.prank(market);
        registry.lockRegistered(alice, 4e18, bob);
        vm.assertEq(_stakeOf(alice).locked, 4e18);
        vm.assertEq(_stakeOf(bob).locked, 0);
    }

    function test_lockRegistered_revertsForUnregisteredOrDeregistered() public {
        _stake(alice, 10e18);
        vm.expectRevert(abi.encodeWithSelector(IProviderRegistry.ProviderRegistryNotRegistered.selector, alice));
        vm.prank(market);
        registry.lockRegistered(alice, 1e18, address(0));
        _register(alice);
        vm.prank(alice);
        registry.deregister();
        vm.expectRevert(abi.encodeWithSelector(IProviderRegistry.ProviderRegistryNotRegistered.selector, alice));
        vm.prank(market);
        registry.lockRegistered(alice, 1e18, address(0));
    }

    function test_lockRegistered_revertsOnZeroAboveFreeStakeOrAboveReleasedLock() public {
        _stake(alice, 10e18);
        _register(alice);
        _stake(bob, 10e18);
        _lock(bob, 1e18);
        vm.startPrank(market);
        vm.expectRevert(abi.encodeWithSelector(IProviderRegistry.ProviderRegistryZeroAmount.selector));
        registry.lockRegistered(alice, 0, address(0));
        vm.expectRevert(
            abi.encodeWithSelector(IProviderRegistry.ProviderRegistryInsufficientFreeStake.selector, alice, 11e18, 10e18)
        );
        registry.lockRegistered(alice, 11e18, address(0));
        vm.expectRevert(
            abi.encodeWithSelector(IProviderRegistry.ProviderRegistryInsufficientLocked.selector, bob, 2e18, 1e18)
        );
        registry.lockRegistered(alice, 2e18, bob);
        vm.stopPrank();
    }

    function test_lockRegistered_revertsForNonMarket() public {
        _stake(alice, 10e18);
        _register(alice);
        bytes32 role = registry.MARKET_ROLE();
        vm.expectRevert(abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, alice, role));
        vm.prank(alice);
        registry.lockRegistered(alice, 1e18, address(0));
    }

    function test_unlock_releasesAndEmits() public {
        _stake(alice, 10e18);
        _lock(alice, 6e18);
        vm.expectEmit(address(registry));
        emit IProviderRegistry.CollateralUnlocked(alice, market, 4e18, 2e18);
        vm.prank(market);
        registry.unlock(alice, 4e18);
        vm.assertEq(_stakeOf(alice).locked, 2e18);
        vm.assertEq(registry.freeStakeOf(alice), 8e18);
    }

    function test_unlock_revertsOnZero() public {
        _stake(alice, 10e18);
        _lock(alice, 1e18);
        vm.expectRevert(abi.encodeWithSelector(IProviderRegistry.ProviderRegistryZeroAmount.selector));
        vm.prank(market);
        registry.unlock(alice, 0);
    }

    function test_unlock_revertsAboveLocked() public {
        _stake(alice, 10e18);
        _lock(alice, 1e18);
        vm.expectRevert(
            abi.encodeWithSelector(IProviderRegistry.ProviderRegistryInsufficientLocked.selector, alice, 2e18, 1e18)
        );
        vm.prank(market);
        registry.unlock(alice, 2e18);
    }

    function test_unlock_revertsForNonMarket() public {
        _stake(alice, 10e18);
        _lock(alice, 1e18);
        bytes32 role = registry.MARKET_ROLE();
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, stranger, role)
        );
        vm.prank(stranger);
        registry.unlock(alice, 1e18);
    }

    function test_marketRole_revokedMarketCannotLock() public {
        _stake(alice, 10e18);
        vm.startPrank(admin);
        registry.revokeRole(registry.MARKET_ROLE(), market);
        vm.stopPrank();
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessControl.AccessControlUnauthorizedAccount.selector, market, registry.MARKET_ROLE()
            )
        );
        _lock(alice, 1e18);
    }

    function testFuzz_lockUnlock(uint256 stakeAmt, uint256 lockAmt, uint256 unlockAmt) public {
        stakeAmt = bound(stakeAmt, 1, FUNDS);
        lockAmt = bound(lockAmt, 1, stakeAmt * 2);
        _stake(alice, stakeAmt);
        if (lockAmt > stakeAmt) {
            vm.expectRevert(
                abi.encodeWithSelector(
                    IProviderRegistry.ProviderRegistryInsufficientFreeStake.selector, alice, lockAmt, stakeAmt
                )
            );
            _lock(alice, lockAmt);
            return;
        }
        _lock(alice, lockAmt);
        unlockAmt = bound(unlockAmt, 1, lockAmt);
        vm.prank(market);
        registry.unlock(alice, unlockAmt);
        IProviderRegistry.StakeInfo memory si = _stakeOf(alice);
        vm.assertEq(si.locked, lockAmt - unlockAmt);
        vm.assertEq(registry.freeStakeOf(alice), stakeAmt - lockAmt + unlockAmt);
        vm.assertLe(si.locked, si.staked);
    }

    // ================================================================== slash

    function test_slash_takesLockedCollateralAndEmits() public {
        _stake(alice, 10e18);
        _lock(alice, 6e18);
        vm.expectEmit(address(registry));
        emit IProviderRegistry.Slashed(alice, market, recipient, 4e18);
        vm.expectEmit(address(token));
        emit IERC20.Transfer(address(registry), recipient, 4e18);
        vm.prank(market);
        uint256 slashed = registry.slash(alice, 4e18, recipient);

        vm.assertEq(slashed, 4e18);
        IProviderRegistry.StakeInfo memory si = _stakeOf(alice);
        vm.assertEq(si.staked, 6e18);
        vm.assertEq(si.locked, 2e18);
        vm.assertEq(registry.freeStakeOf(alice), 4e18, "free stake is untouched");
        vm.assertEq(registry.totalStaked(), 6e18);
        vm.assertEq(token.balanceOf(recipient), 4e18);
        vm.assertEq(token.balanceOf(address(registry)), 6e18);
    }

    function test_slash_capsAtLocked() public {
        _stake(alice, 10e18);
        _lock(alice, 3e18);
        vm.expectEmit(address(registry));
        emit IProviderRegistry.Slashed(alice, market, recipient, 3e18);
        vm.prank(market);
        uint256 slashed = registry.slash(alice, 5e18, recipient);
        vm.assertEq(slashed, 3e18);
        vm.assertEq(_stakeOf(alice).staked, 7e18);
        vm.assertEq(_stakeOf(alice).locked, 0);
        vm.assertEq(token.balanceOf(recipient), 3e18);
    }

    function test_slash_nothingLockedReturnsZero() public {
        _stake(alice, 10e18);
        vm.prank(market);
        uint256 slashed = registry.slash(alice, 5e18, recipient);
        vm.assertEq(slashed, 0);
        vm.assertEq(_stakeOf(alice).staked, 10e18);
        vm.assertEq(token.balanceOf(recipient), 0);
    }

    function test_slash_doesNotTouchUnbonding() public {
        _stake(alice, 10e18);
        _lock(alice, 4e18);
        vm.prank(alice);
        registry.requestUnstake(6e18);
        vm.prank(market);
        registry.slash(alice, 100e18, recipient);
        IProviderRegistry.StakeInfo memory si = _stakeOf(alice);
        vm.assertEq(si.staked, 0);
        vm.assertEq(si.unbonding, 6e18);
        vm.warp(START + PERIOD);
        vm.prank(alice);
        registry.claim();
        vm.assertEq(token.balanceOf(alice), FUNDS - 4e18);
    }

    function test_slash_revertsOnZero() public {
        _stake(alice, 10e18);
        _lock(alice, 1e18);
        vm.expectRevert(abi.encodeWithSelector(IProviderRegistry.ProviderRegistryZeroAmount.selector));
        vm.prank(market);
        registry.slash(alice, 0, recipient);
    }

    function test_slash_revertsOnZeroRecipient() public {
        _stake(alice, 10e18);
        _lock(alice, 1e18);
        vm.expectRevert(
            abi.encodeWithSelector(IProviderRegistry.ProviderRegistryInvalidRecipient.selector, address(0))
        );
        vm.prank(market);
        registry.slash(alice, 1e18, address(0));
    }

    function test_slash_revertsOnRegistryRecipient() public {
        _stake(alice, 10e18);
        _lock(alice, 1e18);
        vm.expectRevert(
            abi.encodeWithSelector(IProviderRegistry.ProviderRegistryInvalidRecipient.selector, address(registry))
        );
        vm.prank(market);
        registry.slash(alice, 1e18, address(registry));
    }

    function test_slash_revertsForNonMarket() public {
        _stake(alice, 10e18);
        _lock(alice, 1e18);
        bytes32 role = registry.MARKET_ROLE();
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, stranger, role)
        );
        vm.prank(stranger);
        registry.slash(alice, 1e18, recipient);
    }

    function testFuzz_slash(uint256 stakeAmt, uint256 lockAmt, uint256 slashAmt) public {
        stakeAmt = bound(stakeAmt, 1, FUNDS);
        lockAmt = bound(lockAmt, 1, stakeAmt);
        slashAmt = bound(slashAmt, 1, 2 * FUNDS);
        _stake(alice, stakeAmt);
        _lock(alice, lockAmt);
        vm.prank(market);
        uint256 slashed = registry.slash(alice, slashAmt, recipient);
        uint256 expected = slashAmt < lockAmt ? slashAmt : lockAmt;
        vm.assertEq(slashed, expected);
        IProviderRegistry.StakeInfo memory si = _stakeOf(alice);
        vm.assertEq(si.staked, stakeAmt - expected);
        vm.assertEq(si.locked, lockAmt - expected);
        vm.assertEq(token.balanceOf(recipient), expected);
        vm.assertEq(token.balanceOf(address(registry)), registry.totalStaked() + registry.totalUnbonding());
    }

    // ================================================================== admin

    function test_setUnbondingPeriod_updatesAndEmits() public {
        vm.expectEmit(address(registry));
        emit IProviderRegistry.UnbondingPeriodUpdated(PERIOD, 3 minutes);
        vm.prank(admin);
        registry.setUnbondingPeriod(3 minutes);
        vm.assertEq(registry.unbondingPeriod(), 3 minutes);
    }

    function test_setUnbondingPeriod_keepsExistingBucketEnd() public {
        _stake(alice, 10e18);
        vm.prank(alice);
        registry.requestUnstake(1e18);
        vm.prank(admin);
        registry.setUnbondingPeriod(0);
        vm.assertEq(_stakeOf(alice).unbondingEnd, START + PERIOD);
    }

    function test_setUnbondingPeriod_zeroAllowsImmediateClaim() public {
        vm.prank(admin);
        registry.setUnbondingPeriod(0);
        _stake(alice, 10e18);
        vm.startPrank(alice);
        registry.requestUnstake(10e18);
        registry.claim();
        vm.stopPrank();
        vm.assertEq(token.balanceOf(alice), FUNDS);
    }

    function test_setUnbondingPeriod_revertsTooLong() public {
        vm.expectRevert(
            abi.encodeWithSelector(
                IProviderRegistry.ProviderRegistryUnbondingPeriodTooLong.selector, uint64(400 days), uint64(365 days)
            )
        );
        vm.prank(admin);
        registry.setUnbondingPeriod(400 days);
    }

    function test_setUnbondingPeriod_revertsForNonAdmin() public {
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, market, bytes32(0))
        );
        vm.prank(market);
        registry.setUnbondingPeriod(1);
    }

    function test_grantRole_revertsForNonAdmin() public {
        bytes32 role = registry.MARKET_ROLE();
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, stranger, bytes32(0))
        );
        vm.prank(stranger);
        registry.grantRole(role, stranger);
    }

    function test_supportsInterface() public view {
        vm.assertTrue(registry.supportsInterface(type(IAccessControl).interfaceId));
        vm.assertFalse(registry.supportsInterface(0xffffffff));
    }

    // ================================================================== views

    function test_views_defaultsForUnknownAccount() public view {
        vm.assertFalse(registry.isRegistered(stranger));
        IProviderRegistry.StakeInfo memory si = _stakeOf(stranger);
        vm.assertEq(si.staked + si.locked + si.unbonding + si.unbondingEnd, 0);
        vm.assertEq(registry.freeStakeOf(stranger), 0);
        IProviderRegistry.Provider memory p = registry.providerOf(stranger);
        vm.assertEq(p.endpoint, "");
        vm.assertFalse(p.registered);
    }
}
