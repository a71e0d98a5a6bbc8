// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Test} from "./Test.sol";
import {OGPUToken} from "../../src/OGPUToken.sol";
import {ProviderRegistry} from "../../src/ProviderRegistry.sol";
import {IProviderRegistry} from "../../src/interfaces/IProviderRegistry.sol";

/// @notice Token + registry deployed, a market address holding MARKET_ROLE, funded actors.
abstract contract RegistryFixture is Test {
    bytes32 internal constant PERMIT_TYPEHASH =
        keccak256("Permit(address owner,address spender,uint256 value,uint256 nonce,uint256 deadline)");
    uint64 internal constant PERIOD = 7 days;
    uint256 internal constant START = 1_700_000_000;
    uint256 internal constant FUNDS = 100_000e18;

    OGPUToken internal token;
    ProviderRegistry internal registry;

    address internal admin;
    address internal market;
    address internal alice;
    uint256 internal aliceKey;
    address internal bob;
    uint256 internal bobKey;
    address internal recipient;
    address internal stranger;

    function setUp() public virtual {
        vm.warp(START);
        admin = makeAddr("admin");
        market = makeAddr("market");
        (alice, aliceKey) = makeAddrAndKey("alice");
        (bob, bobKey) = makeAddrAndKey("bob");
        recipient = makeAddr("recipient");
        stranger = makeAddr("stranger");

        token = new OGPUToken(admin);
        registry = new ProviderRegistry(token, PERIOD, admin);
        vm.startPrank(admin);
        registry.grantRole(registry.MARKET_ROLE(), market);
        token.mint(alice, FUNDS);
        token.mint(bob, FUNDS);
        vm.stopPrank();
        vm.prank(alice);
        token.approve(address(registry), type(uint256).max);
        vm.prank(bob);
        token.approve(address(registry), type(uint256).max);
    }

    function _stake(address who, uint256 amount) internal {
        vm.prank(who);
        registry.stake(amount);
    }

    function _register(address who) internal {
        vm.prank(who);
        registry.register("https://gpu.example:8443", keccak256("info"));
    }

    function _lock(address who, uint256 amount) internal {
        vm.prank(market);
        registry.lock(who, amount);
    }

    function _signPermit(uint256 key, address owner, uint256 value, uint256 deadline)
        internal
        view
        returns (uint8 v, bytes32 r, bytes32 s)
    {
        bytes32 structHash = keccak256(
            abi.encode(PERMIT_TYPEHASH, owner, address(registry), value, token.nonces(owner), deadline)
        );
        bytes32 digest = keccak256(abi.encodePacked("\x19\x01", token.DOMAIN_SEPARATOR(), structHash));
        (v, r, s) = vm.sign(key, digest);
    }

    function _stakeOf(address who) internal view returns (IProviderRegistry.StakeInfo memory) {
        return registry.stakeOf(who);
    }
}
