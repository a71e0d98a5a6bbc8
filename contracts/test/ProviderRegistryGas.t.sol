// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {RegistryFixture} from "./utils/RegistryFixture.sol";
import {FakeMarket} from "./utils/FakeMarket.sol";

/// @notice Gas of the hot registry paths, recorded with vm.snapshotGasLastCall into
///         contracts/snapshots/ProviderRegistryGasTest.json (checked by `npm run snapshot:check`)
///         and bounded here so a regression fails the suite outright. Each test is its own
///         transaction, so every slot starts cold, as in a real call.
contract ProviderRegistryGasTest is RegistryFixture {
    /// @dev What a market pays the registry on a bid; the whole bid must stay <= 80k gas.
    uint256 internal constant LOCK_BUDGET = 12_000;
    uint256 internal constant UNLOCK_BUDGET = 12_000;
    uint256 internal constant STAKE_BUDGET = 60_000;
    uint256 internal constant PERMIT_STAKE_BUDGET = 110_000;
    uint256 internal constant BID_BUDGET = 40_000;
    /// @dev A stake change of a pool member pushes its leaf and <= 9 Fenwick nodes per pool,
    ///      each a new checkpoint slot (~22k gas) in a new block; join/leave also its owner.
    uint256 internal constant JOIN_BUDGET = 480_000;
    uint256 internal constant MEMBER_STAKE_BUDGET = 400_000;
    uint256 internal constant DRAW_BUDGET = 250_000;

    bytes32 internal constant MODEL = keccak256("model.gguf");
    uint256 internal constant POOL_MEMBERS = 16;

    FakeMarket internal fakeMarket;
    address internal dave;
    address internal carol;
    uint256 internal carolKey;

    /// @dev alice: 1,000 staked, registered, 10 locked, 100 unbonding. bob: funded and
    ///      approved, nothing staked. carol: funded, no allowance (for the permit path).
    function setUp() public override {
        super.setUp();
        (carol, carolKey) = makeAddrAndKey("carol");
        fakeMarket = new FakeMarket(registry);
        vm.startPrank(admin);
        registry.grantRole(registry.MARKET_ROLE(), address(fakeMarket));
        token.mint(carol, FUNDS);
        vm.stopPrank();
        _stake(alice, 1_100e18);
        _register(alice);
        _lock(alice, 10e18);
        vm.prank(alice);
        registry.requestUnstake(100e18);
        // A pool of POOL_MEMBERS members of MODEL; dave (position 0, the longest Fenwick path:
        // 9 nodes) holds 10 locked and 100 unbonding like alice.
        vm.roll(100);
        dave = _poolMember("dave", 1_100e18);
        for (uint256 k = 1; k < POOL_MEMBERS; ++k) {
            _poolMember(string(abi.encodePacked("member", vm.toString(k))), k * 10e18);
        }
        _lock(dave, 10e18);
        vm.prank(dave);
        registry.requestUnstake(100e18);
        vm.roll(200); // every measured call below writes checkpoints in a new block
    }

    function _poolMember(string memory name, uint256 amount) internal returns (address who) {
        who = makeAddr(name);
        vm.prank(admin);
        token.mint(who, amount + 1_000e18);
        vm.startPrank(who);
        token.approve(address(registry), type(uint256).max);
        registry.register("https://gpu.example:8443", keccak256("info"));
        registry.stake(amount);
        registry.joinCouncil(MODEL);
        vm.stopPrank();
    }

    function test_gas_joinCouncil() public {
        vm.prank(alice);
        registry.joinCouncil(MODEL);
        vm.assertLe(vm.snapshotGasLastCall("joinCouncil (17th member)"), JOIN_BUDGET);
    }

    function test_gas_leaveCouncil() public {
        vm.prank(dave);
        registry.leaveCouncil(MODEL);
        vm.assertLe(vm.snapshotGasLastCall("leaveCouncil"), JOIN_BUDGET);
    }

    function test_gas_stakeMoreMember() public {
        vm.prank(dave);
        registry.stake(100e18);
        vm.assertLe(vm.snapshotGasLastCall("stake (top-up, member of 1 pool)"), MEMBER_STAKE_BUDGET);
    }

    function test_gas_requestUnstakeMember() public {
        vm.prank(dave);
        registry.requestUnstake(100e18);
        vm.assertLe(vm.snapshotGasLastCall("requestUnstake (member of 1 pool)"), MEMBER_STAKE_BUDGET);
    }

    function test_gas_slashMember() public {
        vm.prank(market);
        registry.slash(dave, 5e18, recipient);
        vm.assertLe(vm.snapshotGasLastCall("slash (member of 1 pool)"), MEMBER_STAKE_BUDGET);
    }

    function test_gas_lockMember() public {
        vm.prank(market);
        registry.lock(dave, 5e18);
        vm.assertLe(vm.snapshotGasLastCall("lock (member of 1 pool)"), LOCK_BUDGET);
    }

    function test_gas_drawCouncil3of16() public {
        address[] memory exclude = new address[](1);
        exclude[0] = dave;
        address[] memory members = registry.drawCouncil(MODEL, 150, keccak256("seed"), 3, exclude);
        vm.assertEq(members.length, 3);
        vm.assertLe(vm.snapshotGasLastCall("drawCouncil (3 of 16, 1 excluded)"), DRAW_BUDGET);
    }

    function test_gas_drawBackedCouncil3of16() public {
        address[] memory exclude = new address[](1);
        exclude[0] = dave;
        address[] memory members = registry.drawBackedCouncil(MODEL, 150, keccak256("seed"), 3, exclude, 1e18);
        vm.assertEq(members.length, 3);
        vm.assertLe(vm.snapshotGasLastCall("drawBackedCouncil (3 of 16, 1 excluded)"), DRAW_BUDGET);
    }

    /// @dev The draw and a lock per seat (StreamMarket.seatDispute): within the draw's budget plus
    ///      a lock's per seat.
    function test_gas_drawAndLockCouncil3of16() public {
        address[] memory exclude = new address[](1);
        exclude[0] = dave;
        vm.prank(market);
        address[] memory members = registry.drawAndLockCouncil(MODEL, 150, keccak256("seed"), 3, exclude, 1e18);
        vm.assertLe(vm.snapshotGasLastCall("drawAndLockCouncil (3 of 16, 1 excluded, 3 locks)"), DRAW_BUDGET + 3 * LOCK_BUDGET);
        vm.assertEq(members.length, 3);
    }

    function test_gas_stakeFirst() public {
        vm.prank(bob);
        registry.stake(100e18);
        vm.assertLe(vm.snapshotGasLastCall("stake (first)"), STAKE_BUDGET);
    }

    function test_gas_stakeMore() public {
        vm.prank(alice);
        registry.stake(100e18);
        vm.assertLe(vm.snapshotGasLastCall("stake (top-up)"), STAKE_BUDGET);
    }

    function test_gas_stakeWithPermit() public {
        uint256 deadline = block.timestamp + 1 hours;
        (uint8 v, bytes32 r, bytes32 s) = _signPermit(carolKey, carol, 100e18, deadline);
        vm.prank(carol);
        registry.stakeWithPermit(100e18, deadline, v, r, s);
        vm.assertLe(vm.snapshotGasLastCall("stakeWithPermit"), PERMIT_STAKE_BUDGET);
    }

    function test_gas_lock() public {
        vm.prank(market);
        registry.lock(alice, 5e18);
        vm.assertLe(vm.snapshotGasLastCall("lock"), LOCK_BUDGET);
    }

    function test_gas_unlock() public {
        vm.prank(market);
        registry.unlock(alice, 5e18);
        vm.assertLe(vm.snapshotGasLastCall("unlock"), UNLOCK_BUDGET);
    }

    function test_gas_unlockAll() public {
        vm.prank(market);
        registry.unlock(alice, 10e18);
        vm.assertLe(vm.snapshotGasLastCall("unlock (to zero)"), UNLOCK_BUDGET);
    }

    /// @dev isRegistered + lock from a market contract, plus the market's own ledger write.
    function test_gas_marketBid() public {
        fakeMarket.bid(alice, 5e18);
        vm.assertLe(vm.snapshotGasLastCall("market bid: isRegistered + lock"), BID_BUDGET);
    }

    function test_gas_requestUnstake() public {
        vm.prank(alice);
        registry.requestUnstake(100e18);
        vm.snapshotGasLastCall("requestUnstake (add to bucket)");
    }

    function test_gas_claim() public {
        vm.warp(block.timestamp + PERIOD);
        vm.prank(alice);
        registry.claim();
        vm.snapshotGasLastCall("claim");
    }

    function test_gas_slash() public {
        vm.prank(market);
        registry.slash(alice, 5e18, recipient);
        vm.snapshotGasLastCall("slash");
    }
}
