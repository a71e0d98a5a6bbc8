// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Errors} from "@openzeppelin/contracts/interfaces/draft-IERC6093.sol";
import {ERC20Capped} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Capped.sol";
import {ERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Permit.sol";

import {OGPUToken} from "../src/OGPUToken.sol";
import {IOGPUToken} from "../src/interfaces/IOGPUToken.sol";
import {Test} from "./utils/Test.sol";

contract OGPUTokenTest is Test {
    bytes32 internal constant PERMIT_TYPEHASH =
        keccak256("Permit(address owner,address spender,uint256 value,uint256 nonce,uint256 deadline)");
    uint256 internal constant CAP = 21_000_000e18;

    OGPUToken internal token;
    address internal admin;
    address internal alice;
    uint256 internal aliceKey;
    address internal spender;
    address internal stranger;

    function setUp() public {
        vm.warp(1_700_000_000);
        admin = makeAddr("admin");
        (alice, aliceKey) = makeAddrAndKey("alice");
        spender = makeAddr("spender");
        stranger = makeAddr("stranger");
        token = new OGPUToken(admin);
    }

    function _permitDigest(address owner, address to, uint256 value, uint256 nonce, uint256 deadline)
        internal
        view
        returns (bytes32)
    {
        bytes32 structHash = keccak256(abi.encode(PERMIT_TYPEHASH, owner, to, value, nonce, deadline));
        return keccak256(abi.encodePacked("\x19\x01", token.DOMAIN_SEPARATOR(), structHash));
    }

    function test_metadata() public view {
        vm.assertEq(token.name(), "OpenGPU");
        vm.assertEq(token.symbol(), "oGPU");
        vm.assertEq(token.decimals(), 18);
        vm.assertEq(token.cap(), CAP);
        vm.assertEq(token.MAX_SUPPLY(), CAP);
        vm.assertEq(token.totalSupply(), 0);
        vm.assertEq(token.MINTER_ROLE(), keccak256("MINTER_ROLE"));
    }

    function test_constructor_grantsRoles() public view {
        vm.assertTrue(token.hasRole(token.DEFAULT_ADMIN_ROLE(), admin));
        vm.assertTrue(token.hasRole(token.MINTER_ROLE(), admin));
        vm.assertFalse(token.hasRole(token.MINTER_ROLE(), stranger));
    }

    function test_constructor_revertsOnZeroAdmin() public {
        vm.expectRevert(abi.encodeWithSelector(IOGPUToken.OGPUTokenInvalidAdmin.selector, address(0)));
        new OGPUToken(address(0));
    }

    function test_mint_byMinter() public {
        vm.expectEmit(address(token));
        emit IERC20.Transfer(address(0), alice, 5e18);
        vm.prank(admin);
        token.mint(alice, 5e18);
        vm.assertEq(token.balanceOf(alice), 5e18);
        vm.assertEq(token.totalSupply(), 5e18);
    }

    function test_mint_byGrantedMinter() public {
        vm.startPrank(admin);
        token.grantRole(token.MINTER_ROLE(), spender);
        vm.stopPrank();
        vm.prank(spender);
        token.mint(alice, 1);
        vm.assertEq(token.balanceOf(alice), 1);
    }

    function test_mint_revertsForNonMinter() public {
        bytes32 role = token.MINTER_ROLE();
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, stranger, role)
        );
        vm.prank(stranger);
        token.mint(stranger, 1);
    }

    function test_mint_upToCap() public {
        vm.prank(admin);
        token.mint(alice, CAP);
        vm.assertEq(token.totalSupply(), CAP);
    }

    function test_mint_revertsPastCap() public {
        vm.prank(admin);
        token.mint(alice, CAP - 1);
        vm.expectRevert(abi.encodeWithSelector(ERC20Capped.ERC20ExceededCap.selector, CAP + 1, CAP));
        vm.prank(admin);
        token.mint(alice, 2);
    }

    function test_mint_revertsToZeroAddress() public {
        vm.expectRevert(abi.encodeWithSelector(IERC20Errors.ERC20InvalidReceiver.selector, address(0)));
        vm.prank(admin);
        token.mint(address(0), 1);
    }

    function testFuzz_mint(uint256 a, uint256 b) public {
        a = bound(a, 0, CAP);
        b = bound(b, 0, CAP);
        vm.prank(admin);
        token.mint(alice, a);
        if (a + b > CAP) {
            vm.expectRevert(abi.encodeWithSelector(ERC20Capped.ERC20ExceededCap.selector, a + b, CAP));
        }
        vm.prank(admin);
        token.mint(spender, b);
        vm.assertLe(token.totalSupply(), CAP);
    }

    function test_transfer() public {
        vm.prank(admin);
        token.mint(alice, 10e18);
        vm.prank(alice);
        token.transfer(spender, 4e18);
        vm.assertEq(token.balanceOf(spender), 4e18);
        vm.expectRevert(
            abi.encodeWithSelector(IERC20Errors.ERC20InsufficientBalance.selector, alice, 6e18, 7e18)
        );
        vm.prank(alice);
        token.transfer(spender, 7e18);
    }

    function test_permit_setsAllowance() public {
        uint256 deadline = block.timestamp + 1 hours;
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(aliceKey, _permitDigest(alice, spender, 7e18, 0, deadline));
        vm.expectEmit(address(token));
        emit IERC20.Approval(alice, spender, 7e18);
        vm.prank(stranger);
        token.permit(alice, spender, 7e18, deadline, v, r, s);
        vm.assertEq(token.allowance(alice, spender), 7e18);
        vm.assertEq(token.nonces(alice), 1);
    }

    function test_permit_revertsWhenExpired() public {
        uint256 deadline = block.timestamp - 1;
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(aliceKey, _permitDigest(alice, spender, 7e18, 0, deadline));
        vm.expectRevert(abi.encodeWithSelector(ERC20Permit.ERC2612ExpiredSignature.selector, deadline));
        token.permit(alice, spender, 7e18, deadline, v, r, s);
    }

    function test_permit_revertsOnWrongSigner() public {
        uint256 deadline = block.timestamp + 1 hours;
        (, uint256 otherKey) = makeAddrAndKey("other");
        address other = vm.addr(otherKey);
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(otherKey, _permitDigest(alice, spender, 7e18, 0, deadline));
        vm.expectRevert(abi.encodeWithSelector(ERC20Permit.ERC2612InvalidSigner.selector, other, alice));
        token.permit(alice, spender, 7e18, deadline, v, r, s);
    }

    function test_permit_revertsOnReplay() public {
        uint256 deadline = block.timestamp + 1 hours;
        bytes32 digest = _permitDigest(alice, spender, 7e18, 0, deadline);
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(aliceKey, digest);
        token.permit(alice, spender, 7e18, deadline, v, r, s);
        // the replay recovers a different signer, since the nonce moved on
        bytes32 replayDigest = _permitDigest(alice, spender, 7e18, 1, deadline);
        address recovered = ecrecover(replayDigest, v, r, s);
        vm.expectRevert(abi.encodeWithSelector(ERC20Permit.ERC2612InvalidSigner.selector, recovered, alice));
        token.permit(alice, spender, 7e18, deadline, v, r, s);
    }

    function test_supportsInterface() public view {
        vm.assertTrue(token.supportsInterface(type(IAccessControl).interfaceId));
    }
}
