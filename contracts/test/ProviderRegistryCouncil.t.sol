// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";

import {IProviderRegistry} from "../src/interfaces/IProviderRegistry.sol";
import {RegistryFixture} from "./utils/RegistryFixture.sol";

/// @notice Council pools of ProviderRegistry: membership, weight sync with the stake, the
///         per-block history, drawCouncil / drawBackedCouncil (exactness, exclusion,
///         as-of-block, stake-weighted frequencies) and drawAndLockCouncil (MARKET_ROLE only;
///         locks the collateral on every seat of a full council, nothing on a short one).
contract ProviderRegistryCouncilTest is RegistryFixture {
    // keccak256, not sha256: a sha256 constant is a precompile call at each use, which would
    // take the vm.prank / vm.expectRevert meant for the registry call.
    bytes32 internal constant MODEL = keccak256("model.gguf");
    bytes32 internal constant MODEL_B = keccak256("model-b.gguf");
    uint256 internal constant START_BLOCK = 1_000;

    address[] internal noExclude;

    function setUp() public override {
        super.setUp();
        vm.roll(START_BLOCK);
    }

    // ================================================================== helpers

    /// @dev A funded, registered account with `amount` staked, not in any pool.
    function _provider(string memory name, uint256 amount) internal returns (address who) {
        who = makeAddr(name);
        vm.prank(admin);
        token.mint(who, amount + 100e18);
        vm.startPrank(who);
        token.approve(address(registry), type(uint256).max);
        registry.register("https://gpu.example:8443", keccak256("info"));
        if (amount != 0) registry.stake(amount);
        vm.stopPrank();
    }

    function _join(address who, bytes32 model) internal {
        vm.prank(who);
        registry.joinCouncil(model);
    }

    function _member(string memory name, uint256 amount) internal returns (address who) {
        who = _provider(name, amount);
        _join(who, MODEL);
    }

    function _next() internal {
        vm.roll(block.number + 1);
    }

    function _one(address a) internal pure returns (address[] memory list) {
        list = new address[](1);
        list[0] = a;
    }

    function _position(address who) internal view returns (uint256 position) {
        bool member;
        (member, position) = registry.councilPositionOf(MODEL, who);
        vm.assertTrue(member, "not a member");
    }

    // ================================================================== join / leave

    function test_join_emitsAndRecords() public {
        address p = _provider("p", 50e18);
        vm.expectEmit(address(registry));
        emit IProviderRegistry.CouncilJoined(MODEL, p, 0, 50e18);
        _join(p, MODEL);
        vm.assertEq(registry.poolSize(MODEL), 1);
        (bool member, uint256 position) = registry.councilPositionOf(MODEL, p);
        vm.assertTrue(member);
        vm.assertEq(position, 0);
        bytes32[] memory models = registry.councilModelsOf(p);
        vm.assertEq(models.length, 1);
        vm.assertEq(models[0], MODEL);
        vm.assertEq(registry.councilWeightAt(MODEL, 0, block.number), 50e18);
        vm.assertEq(registry.councilMemberAt(MODEL, 0, block.number), p);
        vm.assertEq(registry.councilTotalAt(MODEL, block.number), 50e18);
    }

    function test_join_withoutStakeHasZeroWeightUntilStaked() public {
        address p = _provider("p", 0);
        _join(p, MODEL);
        vm.assertEq(registry.councilTotalAt(MODEL, block.number), 0);
        vm.expectEmit(address(registry));
        emit IProviderRegistry.CouncilWeightUpdated(MODEL, p, 7e18);
        vm.prank(p);
        registry.stake(7e18);
        vm.assertEq(registry.councilTotalAt(MODEL, block.number), 7e18);
    }

    function test_join_revertsWhenNotRegistered() public {
        vm.expectRevert(abi.encodeWithSelector(IProviderRegistry.ProviderRegistryNotRegistered.selector, stranger));
        vm.prank(stranger);
        registry.joinCouncil(MODEL);
    }

    function test_join_revertsOnZeroModel() public {
        address p = _provider("p", 1e18);
        vm.expectRevert(
            abi.encodeWithSelector(IProviderRegistry.ProviderRegistryInvalidCouncilModel.selector, bytes32(0))
        );
        vm.prank(p);
        registry.joinCouncil(bytes32(0));
    }

    function test_join_revertsWhenAlreadyMember() public {
        address p = _member("p", 1e18);
        vm.expectRevert(abi.encodeWithSelector(IProviderRegistry.ProviderRegistryAlreadyInCouncil.selector, p, MODEL));
        vm.prank(p);
        registry.joinCouncil(MODEL);
    }

    function test_join_revertsPastMaxModels() public {
        address p = _provider("p", 1e18);
        for (uint256 k; k < 4; ++k) {
            _join(p, bytes32(k + 1));
        }
        vm.assertEq(registry.councilModelsOf(p).length, 4);
        vm.expectRevert(
            abi.encodeWithSelector(IProviderRegistry.ProviderRegistryTooManyCouncilModels.selector, p, uint256(4))
        );
        vm.prank(p);
        registry.joinCouncil(bytes32(uint256(5)));
    }

    function _fillPool(uint256 amount) internal returns (address[] memory members) {
        members = new address[](256);
        for (uint256 k; k < 256; ++k) {
            members[k] = _member(string(abi.encodePacked("m", vm.toString(k))), amount);
        }
    }

    function test_join_revertsWhenFull_replacingTakesALighterSeat() public {
        address[] memory members = _fillPool(1e18);
        vm.assertEq(registry.poolSize(MODEL), 256);
        address heavy = _provider("heavy", 2e18);
        vm.expectRevert(
            abi.encodeWithSelector(IProviderRegistry.ProviderRegistryCouncilPoolFull.selector, MODEL, uint256(256))
        );
        vm.prank(heavy);
        registry.joinCouncil(MODEL);

        address victim = members[17];
        vm.expectEmit(address(registry));
        emit IProviderRegistry.CouncilLeft(MODEL, victim, 17);
        vm.expectEmit(address(registry));
        emit IProviderRegistry.CouncilMemberReplaced(MODEL, victim, heavy);
        vm.expectEmit(address(registry));
        emit IProviderRegistry.CouncilJoined(MODEL, heavy, 17, 2e18);
        vm.prank(heavy);
        registry.joinCouncilReplacing(MODEL, victim);
        (bool member,) = registry.councilPositionOf(MODEL, victim);
        vm.assertFalse(member);
        vm.assertEq(registry.councilModelsOf(victim).length, 0);
        vm.assertEq(registry.poolSize(MODEL), 256);
        vm.assertEq(registry.councilTotalAt(MODEL, block.number), 257e18);
    }

    function test_joinReplacing_revertsWhenNotLighter() public {
        address[] memory members = _fillPool(1e18);
        address same = _provider("same", 1e18);
        vm.expectRevert(
            abi.encodeWithSelector(
                IProviderRegistry.ProviderRegistryCouncilReplaceNotLighter.selector, MODEL, members[3], 1e18, 1e18
            )
        );
        vm.prank(same);
        registry.joinCouncilReplacing(MODEL, members[3]);
    }

    function test_joinReplacing_revertsOnNonMember() public {
        _fillPool(1e18);
        address heavy = _provider("heavy", 2e18);
        vm.expectRevert(abi.encodeWithSelector(IProviderRegistry.ProviderRegistryNotInCouncil.selector, bob, MODEL));
        vm.prank(heavy);
        registry.joinCouncilReplacing(MODEL, bob);
    }

    function test_joinReplacing_revertsWhenNotFull() public {
        address m = _member("m", 1e18);
        address heavy = _provider("heavy", 2e18);
        vm.expectRevert(
            abi.encodeWithSelector(IProviderRegistry.ProviderRegistryCouncilPoolNotFull.selector, MODEL, uint256(1))
        );
        vm.prank(heavy);
        registry.joinCouncilReplacing(MODEL, m);
    }

    function test_leave_emitsFreesAndReusesPosition() public {
        address a = _member("a", 1e18);
        address b = _member("b", 2e18);
        vm.assertEq(_position(b), 1);
        uint256 joined = block.number;
        _next();
        vm.expectEmit(address(registry));
        emit IProviderRegistry.CouncilLeft(MODEL, a, 0);
        vm.prank(a);
        registry.leaveCouncil(MODEL);
        vm.assertEq(registry.poolSize(MODEL), 1);
        vm.assertEq(registry.councilModelsOf(a).length, 0);
        vm.assertEq(registry.councilTotalAt(MODEL, block.number), 2e18);
        _next();
        address c = _member("c", 4e18);
        vm.assertEq(_position(c), 0, "position reused");
        // history of position 0: a, then free, then c
        vm.assertEq(registry.councilMemberAt(MODEL, 0, joined), a);
        vm.assertEq(registry.councilWeightAt(MODEL, 0, joined), 1e18);
        vm.assertEq(registry.councilMemberAt(MODEL, 0, joined + 1), address(0));
        vm.assertEq(registry.councilWeightAt(MODEL, 0, joined + 1), 0);
        vm.assertEq(registry.councilMemberAt(MODEL, 0, block.number), c);
        vm.assertEq(registry.councilTotalAt(MODEL, joined), 3e18);
        vm.assertEq(registry.councilTotalAt(MODEL, joined + 1), 2e18);
        vm.assertEq(registry.councilTotalAt(MODEL, block.number), 6e18);
        vm.assertEq(registry.councilTotalAt(MODEL, joined - 1), 0);
    }

    function test_leave_revertsWhenNotMember() public {
        address p = _provider("p", 1e18);
        vm.expectRevert(abi.encodeWithSelector(IProviderRegistry.ProviderRegistryNotInCouncil.selector, p, MODEL));
        vm.prank(p);
        registry.leaveCouncil(MODEL);
    }

    function test_leave_keepsOtherModels() public {
        address p = _provider("p", 1e18);
        _join(p, MODEL);
        _join(p, MODEL_B);
        _join(p, bytes32(uint256(9)));
        vm.prank(p);
        registry.leaveCouncil(MODEL);
        bytes32[] memory models = registry.councilModelsOf(p);
        vm.assertEq(models.length, 2);
        vm.assertEq(models[0], bytes32(uint256(9)));
        vm.assertEq(models[1], MODEL_B);
        vm.prank(p);
        registry.stake(1e18);
        vm.assertEq(registry.councilTotalAt(MODEL_B, block.number), 2e18);
        vm.assertEq(registry.councilTotalAt(MODEL, block.number), 0);
    }

    function test_deregister_leavesEveryPool() public {
        address p = _provider("p", 3e18);
        _join(p, MODEL);
        _join(p, MODEL_B);
        vm.expectEmit(address(registry));
        emit IProviderRegistry.CouncilLeft(MODEL_B, p, 0);
        vm.expectEmit(address(registry));
        emit IProviderRegistry.CouncilLeft(MODEL, p, 0);
        vm.prank(p);
        registry.deregister();
        vm.assertEq(registry.councilModelsOf(p).length, 0);
        vm.assertEq(registry.poolSize(MODEL), 0);
        vm.assertEq(registry.poolSize(MODEL_B), 0);
        vm.assertEq(registry.councilTotalAt(MODEL, block.number), 0);
        // stake changes no longer touch the pools
        vm.prank(p);
        registry.stake(1e18);
        vm.assertEq(registry.councilTotalAt(MODEL, block.number), 0);
    }

    // ================================================================== weight sync

    function test_weight_followsStakeUnstakeCancelSlash() public {
        address p = _provider("p", 10e18);
        _join(p, MODEL);
        _join(p, MODEL_B);
        uint256 b0 = block.number;

        _next();
        vm.prank(p);
        registry.stake(5e18);
        uint256 b1 = block.number;

        _next();
        vm.expectEmit(address(registry));
        emit IProviderRegistry.CouncilWeightUpdated(MODEL, p, 11e18);
        vm.expectEmit(address(registry));
        emit IProviderRegistry.CouncilWeightUpdated(MODEL_B, p, 11e18);
        vm.prank(p);
        registry.requestUnstake(4e18);
        uint256 b2 = block.number;

        _next();
        vm.prank(p);
        registry.cancelUnstake();
        uint256 b3 = block.number;

        _next();
        _lock(p, 3e18);
        vm.assertEq(registry.councilTotalAt(MODEL, block.number), 15e18, "lock keeps the weight");
        vm.expectEmit(address(registry));
        emit IProviderRegistry.CouncilWeightUpdated(MODEL, p, 13e18);
        vm.prank(market);
        registry.slash(p, 2e18, recipient);
        uint256 b4 = block.number;

        vm.assertEq(registry.councilWeightAt(MODEL, 0, b0), 10e18);
        vm.assertEq(registry.councilWeightAt(MODEL, 0, b1), 15e18);
        vm.assertEq(registry.councilWeightAt(MODEL, 0, b2), 11e18);
        vm.assertEq(registry.councilWeightAt(MODEL, 0, b3), 15e18);
        vm.assertEq(registry.councilWeightAt(MODEL, 0, b4), 13e18);
        vm.assertEq(registry.councilTotalAt(MODEL_B, b2), 11e18);
        vm.assertEq(registry.councilTotalAt(MODEL_B, b4), 13e18);
    }

    function test_views_revertOnPositionOutOfRange() public {
        vm.expectRevert(
            abi.encodeWithSelector(
                IProviderRegistry.ProviderRegistryCouncilPositionOutOfRange.selector, uint256(256), uint256(256)
            )
        );
        registry.councilWeightAt(MODEL, 256, 1);
        vm.expectRevert(
            abi.encodeWithSelector(
                IProviderRegistry.ProviderRegistryCouncilPositionOutOfRange.selector, uint256(300), uint256(256)
            )
        );
        registry.councilMemberAt(MODEL, 300, 1);
    }

    function test_constants() public view {
        vm.assertEq(registry.POOL_CAPACITY(), 256);
        vm.assertEq(registry.MAX_COUNCIL_MODELS(), 4);
        vm.assertEq(registry.MAX_COUNCIL_SEATS(), 16);
        vm.assertEq(registry.MAX_COUNCIL_EXCLUDED(), 8);
        vm.assertEq(registry.MAX_COUNCIL_SKIPS(), 16);
    }

    // ================================================================== draw: reverts and edges

    function test_draw_revertsUnlessBlockPast() public {
        _member("a", 1e18);
        vm.expectRevert(
            abi.encodeWithSelector(
                IProviderRegistry.ProviderRegistryCouncilBlockNotPast.selector, block.number, block.number
            )
        );
        registry.drawCouncil(MODEL, block.number, bytes32(0), 1, noExclude);
        vm.expectRevert(
            abi.encodeWithSelector(
                IProviderRegistry.ProviderRegistryCouncilBlockNotPast.selector, block.number + 5, block.number
            )
        );
        registry.drawBackedCouncil(MODEL, block.number + 5, bytes32(0), 1, noExclude, 0);
    }

    function test_draw_revertsOnSeats() public {
        _next();
        vm.expectRevert(
            abi.encodeWithSelector(IProviderRegistry.ProviderRegistryInvalidCouncilSeats.selector, 0, uint256(16))
        );
        registry.drawCouncil(MODEL, block.number - 1, bytes32(0), 0, noExclude);
        vm.expectRevert(
            abi.encodeWithSelector(IProviderRegistry.ProviderRegistryInvalidCouncilSeats.selector, 17, uint256(16))
        );
        registry.drawCouncil(MODEL, block.number - 1, bytes32(0), 17, noExclude);
    }

    function test_draw_revertsOnTooManyExcluded() public {
        _next();
        address[] memory ex = new address[](9);
        vm.expectRevert(
            abi.encodeWithSelector(IProviderRegistry.ProviderRegistryCouncilTooManyExcluded.selector, 9, uint256(8))
        );
        registry.drawCouncil(MODEL, block.number - 1, bytes32(0), 1, ex);
    }

    function test_draw_emptyPoolReturnsNobody() public {
        _next();
        vm.assertEq(registry.drawCouncil(MODEL, block.number - 1, bytes32(0), 3, noExclude).length, 0);
    }

    function test_draw_returnsFewerWhenExhausted_allDistinct() public {
        address a = _member("a", 1e18);
        address b = _member("b", 1e18);
        address c = _member("c", 1e18);
        _member("zero", 0); // weight 0: never drawn
        _next();
        address[] memory got = registry.drawCouncil(MODEL, block.number - 1, keccak256("s"), 5, _one(b));
        vm.assertEq(got.length, 2);
        vm.assertTrue((got[0] == a && got[1] == c) || (got[0] == c && got[1] == a));
    }

    function test_draw_ignoresLaterJoinsAndWeights() public {
        address a = _member("a", 1e18);
        uint256 atBlock = block.number;
        _next();
        address late = _member("late", 500e18);
        vm.prank(a);
        registry.requestUnstake(1e18); // a's weight is 0 now, 1e18 as of atBlock
        _next();
        for (uint256 i; i < 20; ++i) {
            address[] memory got = registry.drawCouncil(MODEL, atBlock, bytes32(i), 2, noExclude);
            vm.assertEq(got.length, 1);
            vm.assertEq(got[0], a);
        }
        address[] memory now_ = registry.drawCouncil(MODEL, block.number - 1, bytes32(0), 2, noExclude);
        vm.assertEq(now_.length, 1);
        vm.assertEq(now_[0], late);
    }

    function test_drawBacked_skipsLeftAndUnbacked() public {
        address a = _member("a", 10e18);
        address b = _member("b", 10e18);
        address c = _member("c", 10e18);
        uint256 atBlock = block.number;
        _next();
        vm.prank(a);
        registry.leaveCouncil(MODEL); // left since atBlock
        _lock(b, 6e18); // free 4 < 5
        for (uint256 i; i < 10; ++i) {
            address[] memory plain = registry.drawCouncil(MODEL, atBlock, bytes32(i), 3, noExclude);
            vm.assertEq(plain.length, 3);
            address[] memory backed = registry.drawBackedCouncil(MODEL, atBlock, bytes32(i), 3, noExclude, 5e18);
            vm.assertEq(backed.length, 1);
            vm.assertEq(backed[0], c);
        }
        address[] memory loose = registry.drawBackedCouncil(MODEL, atBlock, bytes32(0), 3, noExclude, 4e18);
        vm.assertEq(loose.length, 2);
    }

    function test_drawBacked_stopsAfterMaxSkips() public {
        address[] memory unbacked = new address[](20);
        for (uint256 k; k < 20; ++k) {
            unbacked[k] = _member(string(abi.encodePacked("u", vm.toString(k))), 10e18);
            _lock(unbacked[k], 10e18);
        }
        address ok = _member("ok", 1e18); // 1/201 of the weight: 16 skips almost surely come first
        _next();
        address[] memory got = registry.drawBackedCouncil(MODEL, block.number - 1, keccak256("x"), 1, noExclude, 1);
        // the draw is bounded: either ok came within the first 17 candidates, or nobody
        vm.assertTrue(got.length == 0 || got[0] == ok);
        address[] memory ex = new address[](8);
        for (uint256 k; k < 8; ++k) {
            ex[k] = unbacked[k];
        }
        // 12 unbacked left: at most 12 skips (< 16) before ok
        address[] memory fromOk = registry.drawBackedCouncil(MODEL, block.number - 1, keccak256("x"), 1, ex, 1);
        vm.assertEq(fromOk.length, 1);
        vm.assertEq(fromOk[0], ok);
    }

    // ================================================================== drawAndLockCouncil

    function _drawAndLock(uint256 seats, address[] memory exclude, uint256 collateral)
        internal
        returns (address[] memory)
    {
        vm.prank(market);
        return registry.drawAndLockCouncil(MODEL, block.number - 1, keccak256("seed"), seats, exclude, collateral);
    }

    function test_drawAndLock_onlyMarketRole() public {
        _member("a", 10e18);
        _next();
        bytes32 role = registry.MARKET_ROLE();
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, stranger, role)
        );
        vm.prank(stranger);
        registry.drawAndLockCouncil(MODEL, block.number - 1, bytes32(0), 1, noExclude, 1e18);
    }

    function test_drawAndLock_revertsOnZeroCollateralAndAsDraw() public {
        _member("a", 10e18);
        _next();
        vm.expectRevert(abi.encodeWithSelector(IProviderRegistry.ProviderRegistryZeroAmount.selector));
        _drawAndLock(1, noExclude, 0);
        vm.expectRevert(
            abi.encodeWithSelector(
                IProviderRegistry.ProviderRegistryCouncilBlockNotPast.selector, block.number, block.number
            )
        );
        vm.prank(market);
        registry.drawAndLockCouncil(MODEL, block.number, bytes32(0), 1, noExclude, 1e18);
        vm.expectRevert(
            abi.encodeWithSelector(IProviderRegistry.ProviderRegistryInvalidCouncilSeats.selector, 0, 16)
        );
        _drawAndLock(0, noExclude, 1e18);
    }

    function test_drawAndLock_locksEverySeatOfAFullCouncilAndEmits() public {
        address[4] memory m = [_member("a", 10e18), _member("b", 10e18), _member("c", 10e18), _member("d", 10e18)];
        _lock(m[3], 2e18);
        _next();
        address[] memory expected =
            registry.drawBackedCouncil(MODEL, block.number - 1, keccak256("seed"), 3, _one(m[0]), 5e18);
        vm.assertEq(expected.length, 3);
        for (uint256 i; i < 3; ++i) {
            vm.expectEmit(address(registry));
            emit IProviderRegistry.CollateralLocked(
                expected[i], market, 5e18, expected[i] == m[3] ? 7e18 : 5e18
            );
        }
        address[] memory got = _drawAndLock(3, _one(m[0]), 5e18);
        vm.assertEq(got, expected);
        vm.assertEq(_stakeOf(m[0]).locked, 0, "the excluded member is not locked");
        for (uint256 i = 1; i < 4; ++i) {
            vm.assertEq(_stakeOf(m[i]).locked, (i == 3 ? 2e18 : 0) + 5e18, "5 locked per seat");
        }
        // the locks count at once: nobody has 6 free now but the excluded member
        address[] memory again = _drawAndLock(1, noExclude, 6e18);
        vm.assertEq(again.length, 1);
        vm.assertEq(again[0], m[0]);
        vm.assertEq(_stakeOf(m[0]).locked, 6e18);
    }

    function test_drawAndLock_locksNothingOnAShortCouncil() public {
        address a = _member("a", 10e18);
        address b = _member("b", 10e18);
        address c = _member("c", 3e18); // cannot back 5
        _next();
        address[] memory got = _drawAndLock(3, noExclude, 5e18);
        vm.assertEq(got.length, 2, "a and b only");
        vm.assertTrue(_in(got, a) && _in(got, b));
        vm.assertEq(_stakeOf(a).locked, 0);
        vm.assertEq(_stakeOf(b).locked, 0);
        vm.assertEq(_stakeOf(c).locked, 0);
        vm.assertEq(_drawAndLock(2, noExclude, 5e18).length, 2);
        vm.assertEq(_stakeOf(a).locked + _stakeOf(b).locked, 10e18, "a full council of 2 is locked");
    }

    // ================================================================== draw: fuzz

    /// @dev Random joins, leaves, rejoins (position reuse), stake moves and slashes over several
    ///      blocks; then every draw as of a past block returns distinct members that were in the
    ///      pool with weight > 0 at that block, none excluded, and as many as the pool allows.
    function testFuzz_draw_exactAsOfBlock(uint256 entropy, uint8 seats, uint8 excludeCount) public {
        seats = uint8(bound(seats, 1, 16));
        address[] memory people = new address[](8);
        for (uint256 k; k < 8; ++k) {
            people[k] = _provider(string(abi.encodePacked("f", vm.toString(k))), (k + 1) * 1e18);
        }
        uint256 firstBlock = block.number;
        for (uint256 step; step < 40; ++step) {
            uint256 r = uint256(keccak256(abi.encode(entropy, step)));
            address who = people[r % 8];
            (bool member,) = registry.councilPositionOf(MODEL, who);
            uint256 action = (r >> 8) % 5;
            vm.startPrank(who);
            if (action == 0 || action == 1) {
                if (member) registry.leaveCouncil(MODEL);
                else registry.joinCouncil(MODEL);
            } else if (action == 2) {
                registry.stake(((r >> 16) % 5 + 1) * 1e17);
            } else if (action == 3) {
                uint256 free = registry.freeStakeOf(who);
                if (free > 1) registry.requestUnstake(free / 2);
            } else {
                if (registry.stakeOf(who).unbonding != 0) registry.cancelUnstake();
            }
            vm.stopPrank();
            if ((r >> 32) % 3 == 0) _next();
        }
        _next();
        uint256 lastBlock = block.number - 1;
        for (uint256 t; t < 6; ++t) {
            uint256 atBlock = firstBlock + uint256(keccak256(abi.encode(entropy, "b", t))) % (lastBlock - firstBlock + 1);
            address[] memory ex = new address[](bound(excludeCount, 0, 8));
            for (uint256 k; k < ex.length; ++k) {
                ex[k] = people[uint256(keccak256(abi.encode(entropy, "x", t, k))) % 8];
            }
            address[] memory got = registry.drawCouncil(MODEL, atBlock, keccak256(abi.encode(entropy, t)), seats, ex);
            _checkDraw(atBlock, people, ex, got, seats);
        }
    }

    function _checkDraw(
        uint256 atBlock,
        address[] memory people,
        address[] memory ex,
        address[] memory got,
        uint256 seats
    ) internal view {
        // eligible at atBlock: a position with that owner and weight > 0 then
        uint256 eligible;
        uint256 total;
        for (uint256 k; k < people.length; ++k) {
            uint256 w = _weightAt(people[k], atBlock);
            total += w;
            if (w != 0 && !_in(ex, people[k])) ++eligible;
        }
        vm.assertEq(total, registry.councilTotalAt(MODEL, atBlock), "total = sum of weights");
        vm.assertEq(got.length, eligible < seats ? eligible : seats, "as many as the pool allows");
        for (uint256 i; i < got.length; ++i) {
            vm.assertFalse(_in(ex, got[i]), "excluded drawn");
            vm.assertGt(_weightAt(got[i], atBlock), 0, "not in the pool at atBlock");
            for (uint256 j; j < i; ++j) {
                vm.assertNotEq(got[i], got[j], "duplicate");
            }
        }
    }

    /// @dev `who`'s weight in the pool at the end of `atBlock` (scans the 8 positions used).
    function _weightAt(address who, uint256 atBlock) internal view returns (uint256) {
        for (uint256 p; p < 8; ++p) {
            if (registry.councilMemberAt(MODEL, p, atBlock) == who) return registry.councilWeightAt(MODEL, p, atBlock);
        }
        return 0;
    }

    function _in(address[] memory list, address a) internal pure returns (bool) {
        for (uint256 k; k < list.length; ++k) {
            if (list[k] == a) return true;
        }
        return false;
    }

    // ================================================================== draw: statistics

    /// @dev 2,000 seeds, stakes 1:2:7: each member is drawn for the first seat with probability
    ///      = its stake share (200 / 400 / 1,400 expected; the standard deviations are 13.4 /
    ///      17.9 / 20.5, the tolerance 5 sigma). With the heaviest member excluded, the other
    ///      two split 1:2 (667 / 1,333, sigma 21.1).
    function test_draw_frequenciesFollowStake() public {
        address[3] memory m = [_member("s1", 1e18), _member("s2", 2e18), _member("s7", 7e18)];
        // later moves must not matter
        _next();
        uint256 atBlock = block.number - 1;
        vm.prank(m[2]);
        registry.requestUnstake(7e18);
        _member("late", 50e18);
        _next();

        uint256[3] memory first;
        uint256[3] memory second;
        uint256[3] memory excl;
        for (uint256 i; i < 2000; ++i) {
            address[] memory got = registry.drawCouncil(MODEL, atBlock, keccak256(abi.encode(i)), 2, noExclude);
            vm.assertEq(got.length, 2);
            first[_index(m, got[0])]++;
            second[_index(m, got[1])]++;
            address[] memory ex = registry.drawCouncil(MODEL, atBlock, keccak256(abi.encode("e", i)), 1, _one(m[2]));
            excl[_index(m, ex[0])]++;
        }
        vm.assertApproxEqAbs(first[0], 200, 67, "1/10");
        vm.assertApproxEqAbs(first[1], 400, 90, "2/10");
        vm.assertApproxEqAbs(first[2], 1400, 103, "7/10");
        // second seat without replacement: P(s1) = .2*1/8 + .7*1/3 = .2583, P(s2) = .1*2/9 + .7*2/3 = .4889
        vm.assertApproxEqAbs(second[0], 517, 98, "second seat s1");
        vm.assertApproxEqAbs(second[1], 978, 112, "second seat s2");
        vm.assertEq(excl[2], 0, "excluded never drawn");
        vm.assertApproxEqAbs(excl[0], 667, 106, "1/3 with s7 excluded");
        vm.assertApproxEqAbs(excl[1], 1333, 106, "2/3 with s7 excluded");
    }

    function _index(address[3] memory m, address a) internal pure returns (uint256) {
        for (uint256 k; k < 3; ++k) {
            if (m[k] == a) return k;
        }
        revert("drawn a non-member");
    }
}
