// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC165} from "@openzeppelin/contracts/utils/introspection/IERC165.sol";
import {IERC20Errors} from "@openzeppelin/contracts/interfaces/draft-IERC6093.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

import {StreamFixture} from "../utils/StreamFixture.sol";
import {MockERC20} from "../utils/MockERC20.sol";
import {IStreamMarket} from "../../src/interfaces/IStreamMarket.sol";

/// @notice Constructor, configuration, EIP-712 domain and digests, create (+ permit), terms,
///         top-ups (+ permit) and the views of a new stream.
contract StreamMarketCreateTest is StreamFixture {
    // ================================================================== constructor

    function test_constructor_setsState() public view {
        vm.assertEq(address(market.token()), address(token));
        vm.assertEq(address(market.registry()), address(registry));
        vm.assertEq(market.nextStreamId(), 1);
        vm.assertEq(market.nextDisputeId(), 1);
        vm.assertTrue(_access().hasRole(bytes32(0), admin));
        vm.assertEq(market.MAX_REDEEM_BATCH(), 32);
    }

    function test_constructor_emitsConfigUpdated() public {
        vm.expectEmit();
        emit IStreamMarket.ConfigUpdated(_defaultConfig());
        _deployMarket(_defaultConfig());
    }

    function test_constructor_revertsOnZeroRegistry() public {
        vm.expectRevert(abi.encodeWithSelector(IStreamMarket.StreamMarketInvalidRegistry.selector, address(0)));
        _createMarket(abi.encode(token, address(0), admin, _defaultConfig()));
    }

    function test_constructor_revertsOnTokenMismatch() public {
        MockERC20 other = new MockERC20();
        vm.expectRevert(
            abi.encodeWithSelector(IStreamMarket.StreamMarketTokenMismatch.selector, address(other), address(token))
        );
        _createMarket(abi.encode(other, registry, admin, _defaultConfig()));
    }

    function test_constructor_revertsOnZeroAdmin() public {
        vm.expectRevert(abi.encodeWithSelector(IStreamMarket.StreamMarketInvalidAdmin.selector, address(0)));
        _createMarket(abi.encode(token, registry, address(0), _defaultConfig()));
    }

    function test_constructor_revertsOnInvalidConfig() public {
        IStreamMarket.Config memory c = _defaultConfig();
        c.maxCouncilSize = 17;
        vm.expectRevert(abi.encodeWithSelector(IStreamMarket.StreamMarketInvalidConfig.selector, "maxCouncilSize"));
        _createMarket(abi.encode(token, registry, admin, c));
    }

    /// @dev Deploys StreamMarket with raw CREATE so that vm.expectRevert sees the constructor's revert.
    function _createMarket(bytes memory args) internal returns (address a) {
        bytes memory code = bytes.concat(vm.getCode("StreamMarket.sol:StreamMarket"), args);
        assembly ("memory-safe") {
            a := create(0, add(code, 0x20), mload(code))
        }
    }

    // ================================================================== setConfig

    function test_setConfig_updatesAndEmits() public {
        IStreamMarket.Config memory c = _defaultConfig();
        c.maxCouncilSize = 5;
        c.nonRevealSlashBps = 2_000;
        c.minDisputeBond = 0;
        vm.expectEmit(address(market));
        emit IStreamMarket.ConfigUpdated(c);
        vm.prank(admin);
        market.setConfig(c);
        // it applies to streams created from now on
        IStreamMarket.StreamParams memory p = _params();
        p.councilSize = 6;
        vm.expectRevert(abi.encodeWithSelector(IStreamMarket.StreamMarketInvalidCouncilSize.selector, 6, 5));
        _create(p);
    }

    function test_setConfig_revertsForNonAdmin() public {
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, stranger, bytes32(0))
        );
        vm.prank(stranger);
        market.setConfig(_defaultConfig());
    }

    function test_setConfig_appliesToNewStreamsOnly() public {
        uint256 before = _create();
        IStreamMarket.Config memory c = _defaultConfig();
        c.nonRevealSlashBps = 2_500;
        c.voterRewardBps = 0;
        c.minCollateral = 20e18;
        vm.prank(admin);
        market.setConfig(c);
        vm.assertEq(_stream(before).nonRevealSlash, COLLATERAL / 10);
        vm.assertEq(_stream(before).voterRewardBps, 5_000);
        vm.expectRevert(
            abi.encodeWithSelector(IStreamMarket.StreamMarketCollateralTooLow.selector, COLLATERAL, 20e18)
        );
        _create();
        IStreamMarket.StreamParams memory p = _params();
        p.collateral = 40e18;
        uint256 afterId = _create(p);
        vm.assertEq(_stream(afterId).nonRevealSlash, 10e18);
        vm.assertEq(_stream(afterId).voterRewardBps, 0);
    }

    function test_setConfig_revertsOnEachInvalidField() public {
        IStreamMarket.Config[14] memory cs;
        string[14] memory fields;
        uint256 n;
        IStreamMarket.Config memory c;
        (c = _defaultConfig()).maxCouncilSize = 0;
        (cs[n], fields[n++]) = (c, "maxCouncilSize");
        (c = _defaultConfig()).maxCouncilSize = 17;
        (cs[n], fields[n++]) = (c, "maxCouncilSize");
        (c = _defaultConfig()).nonRevealSlashBps = 10_001;
        (cs[n], fields[n++]) = (c, "nonRevealSlashBps");
        (c = _defaultConfig()).voterRewardBps = 10_001;
        (cs[n], fields[n++]) = (c, "voterRewardBps");
        (c = _defaultConfig()).minCollateral = 0;
        (cs[n], fields[n++]) = (c, "minCollateral");
        (c = _defaultConfig()).minNotice = 0;
        (cs[n], fields[n++]) = (c, "notice");
        c = _defaultConfig();
        (c.minNotice, c.maxNotice) = (2 hours, 1 hours);
        (cs[n], fields[n++]) = (c, "notice");
        (c = _defaultConfig()).maxNotice = 365 days + 1;
        (cs[n], fields[n++]) = (c, "notice");
        (c = _defaultConfig()).minVerdictWindow = 0;
        (cs[n], fields[n++]) = (c, "verdictWindow");
        c = _defaultConfig();
        (c.minVerdictWindow, c.maxVerdictWindow) = (2 hours, 1 hours);
        (cs[n], fields[n++]) = (c, "verdictWindow");
        (c = _defaultConfig()).maxVerdictWindow = 365 days + 1;
        (cs[n], fields[n++]) = (c, "verdictWindow");
        for (uint256 i; i < n; ++i) {
            vm.expectRevert(abi.encodeWithSelector(IStreamMarket.StreamMarketInvalidConfig.selector, fields[i]));
            vm.prank(admin);
            market.setConfig(cs[i]);
        }
    }

    function test_setConfig_acceptsExtremes() public {
        IStreamMarket.Config memory c = IStreamMarket.Config({
            maxCouncilSize: 1,
            nonRevealSlashBps: 10_000,
            voterRewardBps: 10_000,
            minCollateral: 1,
            minDisputeBond: type(uint96).max,
            minNotice: 1,
            maxNotice: 365 days,
            minVerdictWindow: 365 days,
            maxVerdictWindow: 365 days
        });
        vm.expectEmit(address(market));
        emit IStreamMarket.ConfigUpdated(c);
        vm.prank(admin);
        market.setConfig(c);
        c.maxCouncilSize = 16;
        vm.expectEmit(address(market));
        emit IStreamMarket.ConfigUpdated(c);
        vm.prank(admin);
        market.setConfig(c);
    }

    // ================================================================== EIP-712

    function test_eip712_domain() public view {
        (
            bytes1 fields,
            string memory name,
            string memory version,
            uint256 chainId,
            address verifyingContract,
            bytes32 salt,
            uint256[] memory extensions
        ) = market.eip712Domain();
        vm.assertEq(uint8(fields), 0x0f, "name, version, chainId, verifyingContract");
        vm.assertEq(name, "ogpu");
        vm.assertEq(version, "1");
        vm.assertEq(chainId, block.chainid);
        vm.assertEq(verifyingContract, address(market));
        vm.assertEq(salt, bytes32(0));
        vm.assertEq(extensions.length, 0);
        vm.assertEq(market.DOMAIN_SEPARATOR(), _domainSeparator(address(market)));
    }

    function test_eip712_domainFollowsTheChainId() public {
        bytes32 before = market.DOMAIN_SEPARATOR();
        vm.chainId(31_338);
        vm.assertNotEq(market.DOMAIN_SEPARATOR(), before);
        vm.assertEq(market.DOMAIN_SEPARATOR(), _domainSeparator(address(market)));
    }

    function test_eip712_eachMarketHasItsOwnDomain() public {
        IStreamMarket other = _deployMarket(_defaultConfig());
        vm.assertNotEq(other.DOMAIN_SEPARATOR(), market.DOMAIN_SEPARATOR());
    }

    // ================================================================== create

    function test_create_storesEscrowsAndEmits() public {
        IStreamMarket.StreamParams memory p = _params();
        vm.expectEmit(address(market));
        emit IStreamMarket.StreamCreated(1, client, p, 1e18, 5_000);
        vm.expectEmit(address(token));
        emit IERC20.Transfer(client, address(market), DEPOSIT);
        vm.prank(client);
        uint256 id = market.create(p);

        vm.assertEq(id, 1);
        vm.assertEq(market.nextStreamId(), 2);
        vm.assertEq(token.balanceOf(address(market)), DEPOSIT);
        vm.assertEq(token.balanceOf(client), FUNDS - DEPOSIT);

        IStreamMarket.Stream memory s = _stream(id);
        vm.assertEq(s.client, client);
        vm.assertEq(uint8(s.status), uint8(IStreamMarket.StreamStatus.Active));
        vm.assertEq(s.modelHash, MODEL_HASH);
        vm.assertEq(s.specHash, p.specHash);
        vm.assertEq(s.specUri, p.specUri);
        vm.assertEq(s.pricePerKTokenGenerated, PRICE_GEN);
        vm.assertEq(s.pricePerKTokenVerified, PRICE_VER);
        vm.assertEq(s.councilSize, COUNCIL);
        vm.assertEq(uint8(s.responseMethod), uint8(IStreamMarket.ResponseMethod.Optimistic));
        vm.assertEq(s.weightBps, 0);
        vm.assertEq(s.collateral, COLLATERAL);
        vm.assertEq(s.maxDowntime, MAX_DOWNTIME);
        vm.assertEq(s.unsubscribeNotice, UNSUB_NOTICE);
        vm.assertEq(s.closeNotice, CLOSE_NOTICE);
        vm.assertEq(s.commitWindow, COMMIT_WINDOW);
        vm.assertEq(s.revealWindow, REVEAL_WINDOW);
        vm.assertEq(s.disputeBond, BOND);
        vm.assertEq(s.nonRevealSlash, 1e18);
        vm.assertEq(s.voterRewardBps, 5_000);
        vm.assertEq(s.deposit, DEPOSIT);
        vm.assertEq(s.createdAt, START);
        vm.assertEq(s.closeAt, 0);
        vm.assertEq(s.subscriberCount, 0);
        vm.assertEq(s.openDisputes, 0);
        vm.assertEq(market.subscribersOf(id).length, 0);
    }

    function test_create_weightedAndUnanimous() public {
        IStreamMarket.StreamParams memory p = _params();
        p.responseMethod = IStreamMarket.ResponseMethod.Weighted;
        p.weightBps = 6_667;
        uint256 id = _create(p);
        vm.assertEq(uint8(_stream(id).responseMethod), uint8(IStreamMarket.ResponseMethod.Weighted));
        vm.assertEq(_stream(id).weightBps, 6_667);
        p.weightBps = 10_000;
        _create(p);
        p.weightBps = 1;
        _create(p);
        p.responseMethod = IStreamMarket.ResponseMethod.Unanimous;
        p.weightBps = 0;
        id = _create(p);
        vm.assertEq(uint8(_stream(id).responseMethod), uint8(IStreamMarket.ResponseMethod.Unanimous));
    }

    function test_create_zeroDepositPullsNothing() public {
        IStreamMarket.StreamParams memory p = _params();
        p.deposit = 0;
        vm.prank(client);
        token.approve(address(market), 0);
        uint256 id = _create(p);
        vm.assertEq(_stream(id).deposit, 0);
        vm.assertEq(token.balanceOf(address(market)), 0);
    }

    function test_create_idsIncrease() public {
        vm.assertEq(_create(), 1);
        vm.assertEq(_create(), 2);
        vm.assertEq(_create(), 3);
        vm.assertEq(market.nextStreamId(), 4);
    }

    function test_create_acceptsBounds() public {
        IStreamMarket.StreamParams memory p = _params();
        p.specUri = string(new bytes(256));
        p.councilSize = 16;
        p.collateral = 1e18;
        p.disputeBond = 1e18;
        p.maxDowntime = 365 days;
        p.unsubscribeNotice = 1 minutes;
        p.closeNotice = 30 days;
        p.commitWindow = 7 days;
        p.revealWindow = 1 minutes;
        p.pricePerKTokenGenerated = type(uint128).max;
        p.pricePerKTokenVerified = 0;
        uint256 id = _create(p);
        vm.assertEq(_stream(id).pricePerKTokenGenerated, type(uint128).max);
        p.councilSize = 1;
        p.maxDowntime = 1;
        _create(p);
    }

    function test_create_revertsOnMissingHash() public {
        IStreamMarket.StreamParams memory p = _params();
        p.modelHash = 0;
        _expectCreateRevert(
            p, abi.encodeWithSelector(IStreamMarket.StreamMarketMissingHash.selector, bytes32(0), p.specHash)
        );
        p = _params();
        p.specHash = 0;
        _expectCreateRevert(
            p, abi.encodeWithSelector(IStreamMarket.StreamMarketMissingHash.selector, MODEL_HASH, bytes32(0))
        );
    }

    function test_create_revertsOnSpecUri() public {
        IStreamMarket.StreamParams memory p = _params();
        p.specUri = "";
        _expectCreateRevert(p, abi.encodeWithSelector(IStreamMarket.StreamMarketInvalidSpecUri.selector, 0, 256));
        p.specUri = string(new bytes(257));
        _expectCreateRevert(p, abi.encodeWithSelector(IStreamMarket.StreamMarketInvalidSpecUri.selector, 257, 256));
    }

    function test_create_revertsOnCouncilSize() public {
        IStreamMarket.StreamParams memory p = _params();
        p.councilSize = 0;
        _expectCreateRevert(
            p, abi.encodeWithSelector(IStreamMarket.StreamMarketInvalidCouncilSize.selector, uint8(0), uint8(16))
        );
        p.councilSize = 17;
        _expectCreateRevert(
            p, abi.encodeWithSelector(IStreamMarket.StreamMarketInvalidCouncilSize.selector, uint8(17), uint8(16))
        );
        IStreamMarket.Config memory c = _defaultConfig();
        c.maxCouncilSize = 4;
        vm.prank(admin);
        market.setConfig(c);
        p.councilSize = 5;
        _expectCreateRevert(
            p, abi.encodeWithSelector(IStreamMarket.StreamMarketInvalidCouncilSize.selector, uint8(5), uint8(4))
        );
    }

    function test_create_revertsOnWeight() public {
        IStreamMarket.StreamParams memory p = _params();
        p.weightBps = 5_000; // Optimistic takes no weight
        _expectCreateRevert(
            p,
            abi.encodeWithSelector(
                IStreamMarket.StreamMarketInvalidWeight.selector, IStreamMarket.ResponseMethod.Optimistic, uint16(5_000)
            )
        );
        p.responseMethod = IStreamMarket.ResponseMethod.Unanimous;
        p.weightBps = 1;
        _expectCreateRevert(
            p,
            abi.encodeWithSelector(
                IStreamMarket.StreamMarketInvalidWeight.selector, IStreamMarket.ResponseMethod.Unanimous, uint16(1)
            )
        );
        p.responseMethod = IStreamMarket.ResponseMethod.Weighted;
        p.weightBps = 0;
        _expectCreateRevert(
            p,
            abi.encodeWithSelector(
                IStreamMarket.StreamMarketInvalidWeight.selector, IStreamMarket.ResponseMethod.Weighted, uint16(0)
            )
        );
        p.weightBps = 10_001;
        _expectCreateRevert(
            p,
            abi.encodeWithSelector(
                IStreamMarket.StreamMarketInvalidWeight.selector, IStreamMarket.ResponseMethod.Weighted, uint16(10_001)
            )
        );
    }

    function test_create_revertsOnInvalidResponseMethod() public {
        // An enum value out of range fails ABI decoding (no reason).
        bytes memory data = abi.encodeCall(IStreamMarket.create, (_params()));
        // params is the only (dynamic) argument: head offset at 4, tuple at 4 + 32; responseMethod is field 6.
        uint256 at = 4 + 32 + 6 * 32 + 31;
        vm.assertEq(uint8(data[at]), 0);
        data[at] = bytes1(uint8(3));
        vm.prank(client);
        (bool ok,) = address(market).call(data);
        vm.assertFalse(ok);
    }

    function test_create_revertsOnCollateral() public {
        IStreamMarket.StreamParams memory p = _params();
        p.collateral = 1e18 - 1;
        _expectCreateRevert(
            p, abi.encodeWithSelector(IStreamMarket.StreamMarketCollateralTooLow.selector, 1e18 - 1, 1e18)
        );
    }

    function test_create_revertsOnDisputeBond() public {
        IStreamMarket.StreamParams memory p = _params();
        p.disputeBond = 1e18 - 1;
        _expectCreateRevert(
            p, abi.encodeWithSelector(IStreamMarket.StreamMarketDisputeBondTooLow.selector, 1e18 - 1, 1e18)
        );
    }

    function test_create_revertsOnMaxDowntime() public {
        IStreamMarket.StreamParams memory p = _params();
        p.maxDowntime = 0;
        _expectCreateRevert(
            p, abi.encodeWithSelector(IStreamMarket.StreamMarketInvalidMaxDowntime.selector, uint32(0), uint32(365 days))
        );
        p.maxDowntime = 365 days + 1;
        _expectCreateRevert(
            p,
            abi.encodeWithSelector(
                IStreamMarket.StreamMarketInvalidMaxDowntime.selector, uint32(365 days + 1), uint32(365 days)
            )
        );
    }

    function test_create_revertsOnNotices() public {
        uint32[2] memory bad = [uint32(1 minutes - 1), uint32(30 days + 1)];
        for (uint256 i; i < 2; ++i) {
            IStreamMarket.StreamParams memory p = _params();
            p.unsubscribeNotice = bad[i];
            _expectCreateRevert(
                p,
                abi.encodeWithSelector(
                    IStreamMarket.StreamMarketInvalidNotice.selector, bad[i], uint32(1 minutes), uint32(30 days)
                )
            );
            p = _params();
            p.closeNotice = bad[i];
            _expectCreateRevert(
                p,
                abi.encodeWithSelector(
                    IStreamMarket.StreamMarketInvalidNotice.selector, bad[i], uint32(1 minutes), uint32(30 days)
                )
            );
        }
    }

    function test_create_revertsOnVerdictWindows() public {
        uint32[2] memory bad = [uint32(1 minutes - 1), uint32(7 days + 1)];
        for (uint256 i; i < 2; ++i) {
            IStreamMarket.StreamParams memory p = _params();
            p.commitWindow = bad[i];
            _expectCreateRevert(
                p,
                abi.encodeWithSelector(
                    IStreamMarket.StreamMarketInvalidVerdictWindow.selector, bad[i], uint32(1 minutes), uint32(7 days)
                )
            );
            p = _params();
            p.revealWindow = bad[i];
            _expectCreateRevert(
                p,
                abi.encodeWithSelector(
                    IStreamMarket.StreamMarketInvalidVerdictWindow.selector, bad[i], uint32(1 minutes), uint32(7 days)
                )
            );
        }
    }

    function test_create_revertsOnAmountOverflows() public {
        IStreamMarket.StreamParams memory p = _params();
        p.collateral = uint256(type(uint96).max) + 1;
        _expectCreateRevert(p, _overflow(96, p.collateral));
        p = _params();
        p.deposit = uint256(type(uint96).max) + 1;
        _expectCreateRevert(p, _overflow(96, p.deposit));
        p = _params();
        p.disputeBond = uint256(type(uint96).max) + 1;
        _expectCreateRevert(p, _overflow(96, p.disputeBond));
        p = _params();
        p.pricePerKTokenGenerated = uint256(type(uint128).max) + 1;
        _expectCreateRevert(p, _overflow(128, p.pricePerKTokenGenerated));
        p = _params();
        p.pricePerKTokenVerified = uint256(type(uint128).max) + 1;
        _expectCreateRevert(p, _overflow(128, p.pricePerKTokenVerified));
    }

    function test_create_revertsWithoutAllowance() public {
        vm.prank(client);
        token.approve(address(market), 0);
        _expectCreateRevert(
            _params(),
            abi.encodeWithSelector(IERC20Errors.ERC20InsufficientAllowance.selector, address(market), 0, DEPOSIT)
        );
    }

    function _overflow(uint8 bits, uint256 value) internal pure returns (bytes memory) {
        return abi.encodeWithSelector(SafeCast.SafeCastOverflowedUintDowncast.selector, bits, value);
    }

    function _expectCreateRevert(IStreamMarket.StreamParams memory p, bytes memory err) internal {
        vm.expectRevert(err);
        vm.prank(client);
        market.create(p);
    }

    // ================================================================== createWithPermit

    function test_createWithPermit_withoutPriorApproval() public {
        vm.prank(client);
        token.approve(address(market), 0);
        IStreamMarket.StreamParams memory p = _params();
        uint256 deadline = block.timestamp + 1 hours;
        (uint8 v, bytes32 r, bytes32 s) = _signPermit(clientKey, client, address(market), DEPOSIT, deadline);
        vm.expectEmit(address(market));
        emit IStreamMarket.StreamCreated(1, client, p, 1e18, 5_000);
        vm.prank(client);
        uint256 id = market.createWithPermit(p, deadline, v, r, s);
        vm.assertEq(id, 1);
        vm.assertEq(token.balanceOf(address(market)), DEPOSIT);
        vm.assertEq(token.allowance(client, address(market)), 0, "the permit's allowance is used up");
    }

    function test_createWithPermit_frontRunPermitStillWorks() public {
        vm.prank(client);
        token.approve(address(market), 0);
        uint256 deadline = block.timestamp + 1 hours;
        (uint8 v, bytes32 r, bytes32 s) = _signPermit(clientKey, client, address(market), DEPOSIT, deadline);
        token.permit(client, address(market), DEPOSIT, deadline, v, r, s); // someone front-runs it
        vm.prank(client);
        market.createWithPermit(_params(), deadline, v, r, s);
        vm.assertEq(token.balanceOf(address(market)), DEPOSIT);
    }

    function test_createWithPermit_badPermitWithoutAllowanceReverts() public {
        vm.prank(client);
        token.approve(address(market), 0);
        uint256 deadline = block.timestamp + 1 hours;
        (uint8 v, bytes32 r, bytes32 s) = _signPermit(clientKey, client, address(market), 1e18, deadline);
        vm.expectRevert(
            abi.encodeWithSelector(IERC20Errors.ERC20InsufficientAllowance.selector, address(market), 0, DEPOSIT)
        );
        vm.prank(client);
        market.createWithPermit(_params(), deadline, v, r, s);
    }

    function test_createWithPermit_zeroDepositNeedsNoPermit() public {
        IStreamMarket.StreamParams memory p = _params();
        p.deposit = 0;
        vm.prank(client);
        uint256 id = market.createWithPermit(p, 0, 0, 0, 0);
        vm.assertEq(_stream(id).deposit, 0);
    }

    function test_createWithPermit_validatesParams() public {
        IStreamMarket.StreamParams memory p = _params();
        p.councilSize = 0;
        vm.expectRevert(
            abi.encodeWithSelector(IStreamMarket.StreamMarketInvalidCouncilSize.selector, uint8(0), uint8(16))
        );
        vm.prank(client);
        market.createWithPermit(p, 0, 0, 0, 0);
    }

    // ================================================================== updateTerms

    function test_updateTerms_updatesAndEmits() public {
        uint256 id = _create();
        vm.expectEmit(address(market));
        emit IStreamMarket.TermsUpdated(id, 3e15, 0);
        vm.prank(client);
        market.updateTerms(id, 3e15, 0);
        vm.assertEq(_stream(id).pricePerKTokenGenerated, 3e15);
        vm.assertEq(_stream(id).pricePerKTokenVerified, 0);
    }

    function test_updateTerms_reverts() public {
        uint256 id = _create();
        vm.expectRevert(abi.encodeWithSelector(IStreamMarket.StreamMarketUnknownStream.selector, 7));
        vm.prank(client);
        market.updateTerms(7, 1, 1);

        vm.expectRevert(abi.encodeWithSelector(IStreamMarket.StreamMarketNotClient.selector, id, stranger));
        vm.prank(stranger);
        market.updateTerms(id, 1, 1);

        vm.expectRevert(_overflow(128, uint256(type(uint128).max) + 1));
        vm.prank(client);
        market.updateTerms(id, uint256(type(uint128).max) + 1, 1);
        vm.expectRevert(_overflow(128, uint256(type(uint128).max) + 1));
        vm.prank(client);
        market.updateTerms(id, 1, uint256(type(uint128).max) + 1);

        vm.prank(client);
        market.close(id);
        vm.expectRevert(
            abi.encodeWithSelector(
                IStreamMarket.StreamMarketUnexpectedStatus.selector,
                id,
                IStreamMarket.StreamStatus.Closing,
                IStreamMarket.StreamStatus.Active
            )
        );
        vm.prank(client);
        market.updateTerms(id, 1, 1);
    }

    function testFuzz_updateTerms_anyPrices(uint128 gen, uint128 ver) public {
        uint256 id = _create();
        vm.prank(client);
        market.updateTerms(id, gen, ver);
        vm.assertEq(_stream(id).pricePerKTokenGenerated, gen);
        vm.assertEq(_stream(id).pricePerKTokenVerified, ver);
        vm.assertEq(_stream(id).deposit, DEPOSIT, "prices never touch the deposit");
    }

    // ================================================================== topUp

    function test_topUp_byAnyoneAddsAndEmits() public {
        uint256 id = _create();
        vm.expectEmit(address(market));
        emit IStreamMarket.DepositToppedUp(id, stranger, 5e18, DEPOSIT + 5e18);
        vm.expectEmit(address(token));
        emit IERC20.Transfer(stranger, address(market), 5e18);
        vm.prank(stranger);
        market.topUp(id, 5e18);
        vm.assertEq(_stream(id).deposit, DEPOSIT + 5e18);
        vm.assertEq(token.balanceOf(address(market)), DEPOSIT + 5e18);
    }

    function test_topUp_whileClosing() public {
        uint256 id = _create();
        vm.prank(client);
        market.close(id);
        vm.prank(client);
        market.topUp(id, 1);
        vm.assertEq(_stream(id).deposit, DEPOSIT + 1);
    }

    function test_topUp_reverts() public {
        uint256 id = _create();
        vm.expectRevert(abi.encodeWithSelector(IStreamMarket.StreamMarketZeroAmount.selector));
        vm.prank(client);
        market.topUp(id, 0);

        vm.expectRevert(abi.encodeWithSelector(IStreamMarket.StreamMarketUnknownStream.selector, 9));
        vm.prank(client);
        market.topUp(9, 1);

        vm.expectRevert(_overflow(96, uint256(type(uint96).max) + 1));
        vm.prank(client);
        market.topUp(id, uint256(type(uint96).max) + 1 - DEPOSIT);

        vm.prank(client);
        market.close(id);
        vm.warp(block.timestamp + CLOSE_NOTICE);
        market.finalizeClose(id);
        vm.expectRevert(abi.encodeWithSelector(IStreamMarket.StreamMarketStreamClosed.selector, id));
        vm.prank(client);
        market.topUp(id, 1);
    }

    function test_topUpWithPermit() public {
        uint256 id = _create();
        vm.prank(stranger);
        token.approve(address(market), 0);
        uint256 deadline = block.timestamp + 1 hours;
        (uint8 v, bytes32 r, bytes32 s) = _signPermit(strangerKey, stranger, address(market), 7e18, deadline);
        vm.expectEmit(address(market));
        emit IStreamMarket.DepositToppedUp(id, stranger, 7e18, DEPOSIT + 7e18);
        vm.prank(stranger);
        market.topUpWithPermit(id, 7e18, deadline, v, r, s);
        vm.assertEq(_stream(id).deposit, DEPOSIT + 7e18);
        vm.assertEq(token.allowance(stranger, address(market)), 0);
    }

    function test_topUpWithPermit_reverts() public {
        uint256 id = _create();
        vm.expectRevert(abi.encodeWithSelector(IStreamMarket.StreamMarketZeroAmount.selector));
        vm.prank(stranger);
        market.topUpWithPermit(id, 0, 0, 0, 0, 0);
        vm.prank(stranger);
        token.approve(address(market), 0);
        vm.expectRevert(
            abi.encodeWithSelector(IERC20Errors.ERC20InsufficientAllowance.selector, address(market), 0, 7e18)
        );
        vm.prank(stranger);
        market.topUpWithPermit(id, 7e18, 0, 0, 0, 0);
    }

    // ================================================================== views

    function test_views_unknownStreamAndDispute() public view {
        IStreamMarket.Stream memory s = _stream(42);
        vm.assertEq(uint8(s.status), uint8(IStreamMarket.StreamStatus.None));
        vm.assertEq(s.client, address(0));
        vm.assertEq(market.subscribersOf(42).length, 0);
        IStreamMarket.Subscription memory sub = market.subscription(42, providers[0]);
        vm.assertEq(uint8(sub.status), uint8(IStreamMarket.SubscriptionStatus.None));
        vm.assertEq(sub.locked, 0);
        vm.assertEq(market.redeemed(42, providers[0]), 0);
        vm.assertEq(market.subscription(42, providers[0]).locked, 0);
        IStreamMarket.Dispute memory d = market.getDispute(42);
        vm.assertEq(uint8(d.state), uint8(IStreamMarket.DisputeState.None));
        vm.assertEq(d.council.length, 0);
        vm.assertFalse(market.verdictOf(42, providers[0]).member);
    }

    /// @notice The deployed code fits EIP-170 (anvil and every EVM chain refuse more): built for size, 43 bytes under.
    function test_runtimeCodeFitsEip170() public view {
        vm.assertLe(address(market).code.length, 24_576, "StreamMarket runtime code over EIP-170");
    }

    function test_supportsAccessControlInterface() public view {
        vm.assertTrue(
            IERC165(address(market)).supportsInterface(type(IAccessControl).interfaceId), "IAccessControl"
        );
    }
}
