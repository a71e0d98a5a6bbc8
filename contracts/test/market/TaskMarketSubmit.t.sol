// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Errors} from "@openzeppelin/contracts/interfaces/draft-IERC6093.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

import {MarketFixture} from "../utils/MarketFixture.sol";
import {MockERC20} from "../utils/MockERC20.sol";
import {ITaskMarket} from "../../src/interfaces/ITaskMarket.sol";
import {IProviderRegistry} from "../../src/interfaces/IProviderRegistry.sol";

/// @notice Constructor, configuration, submit (+ permit), cancel and the views of an open task.
contract TaskMarketSubmitTest is MarketFixture {
    // ================================================================== constructor

    function test_constructor_setsState() public view {
        vm.assertEq(address(market.token()), address(token));
        vm.assertEq(address(market.registry()), address(registry));
        vm.assertEq(market.nextTaskId(), 1);
        vm.assertTrue(_access().hasRole(bytes32(0), admin));
        vm.assertEq(market.MAX_BIDS(), 64);
        vm.assertEq(market.MAX_COUNCIL_SIZE(), 15);
        vm.assertEq(market.MAX_CHECKPOINTS(), 32);
        vm.assertEq(market.MAX_DURATION(), 365 days);
        vm.assertEq(market.MAX_SPEC_URI_LENGTH(), 256);
        vm.assertEq(keccak256(abi.encode(market.config())), keccak256(abi.encode(_defaultConfig())));
    }

    function test_constructor_emitsConfigUpdated() public {
        vm.expectEmit();
        emit ITaskMarket.ConfigUpdated(_defaultConfig());
        _deployMarket(_defaultConfig());
    }

    function test_constructor_revertsOnZeroRegistry() public {
        vm.expectRevert(abi.encodeWithSelector(ITaskMarket.TaskMarketInvalidRegistry.selector, address(0)));
        _create(abi.encode(token, address(0), admin, _defaultConfig()));
    }

    function test_constructor_revertsOnTokenMismatch() public {
        MockERC20 other = new MockERC20();
        vm.expectRevert(
            abi.encodeWithSelector(ITaskMarket.TaskMarketTokenMismatch.selector, address(other), address(token))
        );
        _create(abi.encode(other, registry, admin, _defaultConfig()));
    }

    function test_constructor_revertsOnZeroAdmin() public {
        vm.expectRevert(abi.encodeWithSelector(ITaskMarket.TaskMarketInvalidAdmin.selector, address(0)));
        _create(abi.encode(token, registry, address(0), _defaultConfig()));
    }

    function test_constructor_revertsOnInvalidConfig() public {
        ITaskMarket.Config memory c = _defaultConfig();
        c.maxBids = 65;
        vm.expectRevert(abi.encodeWithSelector(ITaskMarket.TaskMarketInvalidConfig.selector, "maxBids"));
        _create(abi.encode(token, registry, admin, c));
    }

    /// @dev Deploys TaskMarket with raw CREATE so that vm.expectRevert sees the constructor's revert.
    function _create(bytes memory args) internal returns (address a) {
        bytes memory code = bytes.concat(vm.getCode("TaskMarket.sol:TaskMarket"), args);
        assembly ("memory-safe") {
            a := create(0, add(code, 0x20), mload(code))
        }
    }

    // ================================================================== setConfig

    function test_setConfig_updatesAndEmits() public {
        ITaskMarket.Config memory c = _defaultConfig();
        c.maxBids = 10;
        c.maxCouncilSize = 9;
        c.nonRevealSlashBps = 2_000;
        vm.expectEmit(address(market));
        emit ITaskMarket.ConfigUpdated(c);
        vm.prank(admin);
        market.setConfig(c);
        vm.assertEq(keccak256(abi.encode(market.config())), keccak256(abi.encode(c)));
    }

    function test_setConfig_revertsForNonAdmin() public {
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, stranger, bytes32(0))
        );
        vm.prank(stranger);
        market.setConfig(_defaultConfig());
    }

    function test_setConfig_appliesToNewTasksOnly() public {
        uint256 before = _submit();
        ITaskMarket.Config memory c = _defaultConfig();
        c.nonRevealSlashBps = 2_500;
        c.slashRewardBps = 0;
        c.minCollateral = 20e18;
        vm.prank(admin);
        market.setConfig(c);
        // the running task keeps its settlement terms
        vm.assertEq(_task(before).nonRevealSlash, COLLATERAL / 10);
        vm.assertEq(_task(before).slashRewardBps, 5_000);
        // new bounds apply to new tasks
        vm.expectRevert(abi.encodeWithSelector(ITaskMarket.TaskMarketCollateralTooLow.selector, COLLATERAL, 20e18));
        _submit();
        ITaskMarket.TaskParams memory p = _params();
        p.collateral = 40e18;
        uint256 afterId = _submit(p);
        vm.assertEq(_task(afterId).nonRevealSlash, 10e18);
        vm.assertEq(_task(afterId).slashRewardBps, 0);
    }

    function test_setConfig_revertsOnEachInvalidField() public {
        string[20] memory fields;
        ITaskMarket.Config[20] memory cs;
        uint256 n;
        ITaskMarket.Config memory c;
        (c = _defaultConfig()).maxBids = 1;
        (cs[n], fields[n++]) = (c, "maxBids");
        (c = _defaultConfig()).maxBids = 65;
        (cs[n], fields[n++]) = (c, "maxBids");
        (c = _defaultConfig()).maxCouncilSize = 0;
        (cs[n], fields[n++]) = (c, "maxCouncilSize");
        (c = _defaultConfig()).maxCouncilSize = 16;
        (cs[n], fields[n++]) = (c, "maxCouncilSize");
        (c = _defaultConfig()).maxCheckpoints = 0;
        (cs[n], fields[n++]) = (c, "maxCheckpoints");
        (c = _defaultConfig()).maxCheckpoints = 33;
        (cs[n], fields[n++]) = (c, "maxCheckpoints");
        (c = _defaultConfig()).nonRevealSlashBps = 10_001;
        (cs[n], fields[n++]) = (c, "nonRevealSlashBps");
        (c = _defaultConfig()).slashRewardBps = 10_001;
        (cs[n], fields[n++]) = (c, "slashRewardBps");
        (c = _defaultConfig()).minCollateral = 0;
        (cs[n], fields[n++]) = (c, "minCollateral");
        (c = _defaultConfig()).minBiddingWindow = 0;
        (cs[n], fields[n++]) = (c, "biddingWindow");
        c = _defaultConfig();
        c.minBiddingWindow = 100;
        c.maxBiddingWindow = 99;
        (cs[n], fields[n++]) = (c, "biddingWindow");
        (c = _defaultConfig()).maxBiddingWindow = 365 days + 1;
        (cs[n], fields[n++]) = (c, "biddingWindow");
        (c = _defaultConfig()).minCheckpointWindow = 0;
        (cs[n], fields[n++]) = (c, "checkpointWindow");
        (c = _defaultConfig()).maxCheckpointWindow = 365 days + 1;
        (cs[n], fields[n++]) = (c, "checkpointWindow");
        c = _defaultConfig();
        c.minCheckpointWindow = 2 hours;
        c.maxCheckpointWindow = 1 hours;
        (cs[n], fields[n++]) = (c, "checkpointWindow");
        (c = _defaultConfig()).minVerdictWindow = 0;
        (cs[n], fields[n++]) = (c, "verdictWindow");
        (c = _defaultConfig()).maxVerdictWindow = 365 days + 1;
        (cs[n], fields[n++]) = (c, "verdictWindow");
        c = _defaultConfig();
        c.minVerdictWindow = 2 hours;
        c.maxVerdictWindow = 1 hours;
        (cs[n], fields[n++]) = (c, "verdictWindow");
        c = _defaultConfig();
        c.minOpenTime = c.minBiddingWindow + 1; // it must never outlast a bidding window
        (cs[n], fields[n++]) = (c, "minOpenTime");
        for (uint256 i; i < n; ++i) {
            vm.expectRevert(abi.encodeWithSelector(ITaskMarket.TaskMarketInvalidConfig.selector, fields[i]));
            vm.prank(admin);
            market.setConfig(cs[i]);
        }
    }

    function test_setConfig_acceptsExtremes() public {
        ITaskMarket.Config memory c = _defaultConfig();
        c.maxBids = 2;
        c.maxCouncilSize = 1;
        c.maxCheckpoints = 1;
        c.nonRevealSlashBps = 10_000;
        c.slashRewardBps = 10_000;
        c.minCollateral = 1;
        c.minBiddingWindow = 1;
        c.maxBiddingWindow = 365 days;
        vm.prank(admin);
        market.setConfig(c);
        vm.assertEq(market.config().maxBids, 2);
    }

    // ================================================================== submit

    function test_submit_storesEscrowsAndEmits() public {
        ITaskMarket.TaskParams memory p = _params();
        p.softDeadline = 1 hours;
        p.hardDeadline = 2 hours;
        uint256 escrow = _escrowOf(p);
        vm.assertEq(escrow, 104e18);
        vm.expectEmit(address(market));
        emit ITaskMarket.TaskSubmitted(1, client, p, uint64(START + BIDDING), uint64(START), escrow, 1e18, 5_000);
        vm.expectEmit(address(token));
        emit IERC20.Transfer(client, address(market), escrow);
        vm.prank(client);
        uint256 id = market.submit(p);

        vm.assertEq(id, 1);
        vm.assertEq(market.nextTaskId(), 2);
        vm.assertEq(token.balanceOf(address(market)), escrow);
        vm.assertEq(token.balanceOf(client), FUNDS - escrow);

        ITaskMarket.Task memory t = _task(id);
        vm.assertEq(t.client, client);
        vm.assertEq(uint8(t.status), uint8(ITaskMarket.Status.Open));
        vm.assertEq(t.specHash, p.specHash);
        vm.assertEq(t.specUri, p.specUri);
        vm.assertEq(t.dataRoot, p.dataRoot);
        vm.assertEq(t.modelHash, p.modelHash);
        vm.assertEq(t.itemCount, ITEMS);
        vm.assertEq(t.checkpoints, CHECKPOINTS);
        vm.assertEq(t.councilSize, COUNCIL);
        vm.assertEq(t.maxBids, MAX_BIDS);
        vm.assertEq(t.maxPrice, MAX_PRICE);
        vm.assertEq(t.councilFeePerVote, FEE);
        vm.assertEq(t.collateral, COLLATERAL);
        vm.assertEq(t.biddingEnd, START + BIDDING);
        vm.assertEq(t.checkpointWindow, CK_WINDOW);
        vm.assertEq(t.commitWindow, COMMIT_WINDOW);
        vm.assertEq(t.revealWindow, REVEAL_WINDOW);
        vm.assertEq(t.softDeadline, 1 hours);
        vm.assertEq(t.hardDeadline, 2 hours);
        vm.assertEq(t.nonRevealSlash, 1e18);
        vm.assertEq(t.slashRewardBps, 5_000);
        vm.assertEq(t.escrow, escrow);
        vm.assertEq(t.bidCount, 0);
        vm.assertEq(t.bestPrice, 0);
        vm.assertEq(t.executor, address(0));
        vm.assertEq(t.price, 0);
        vm.assertEq(t.assignedAt, 0);
        vm.assertEq(t.councilCount, 0);
        vm.assertEq(t.deadline, 0);
    }

    function test_submit_idsIncrease() public {
        vm.assertEq(_submit(), 1);
        vm.assertEq(_submit(), 2);
        vm.assertEq(_submit(), 3);
        vm.assertEq(market.nextTaskId(), 4);
    }

    function test_submit_acceptsBounds() public {
        ITaskMarket.TaskParams memory p = _params();
        p.itemCount = 32;
        p.checkpoints = 32;
        p.councilSize = 15;
        p.maxBids = 64;
        p.councilFeePerVote = 0;
        p.collateral = 1e18;
        p.biddingWindow = 7 days;
        p.checkpointWindow = 1 minutes;
        p.commitWindow = 7 days;
        p.revealWindow = 1 minutes;
        p.specUri = string(new bytes(256));
        p.softDeadline = 0;
        p.hardDeadline = 365 days;
        uint256 id = _submit(p);
        vm.assertEq(_task(id).escrow, MAX_PRICE);
        // itemCount == checkpoints == 1, council 1, maxBids 2
        p.itemCount = 1;
        p.checkpoints = 1;
        p.councilSize = 1;
        p.maxBids = 2;
        _submit(p);
    }

    function test_submit_revertsOnMissingHash() public {
        ITaskMarket.TaskParams memory p = _params();
        p.specHash = 0;
        _expectSubmitRevert(
            p, abi.encodeWithSelector(ITaskMarket.TaskMarketMissingHash.selector, bytes32(0), p.dataRoot, p.modelHash)
        );
        p = _params();
        p.dataRoot = 0;
        _expectSubmitRevert(
            p, abi.encodeWithSelector(ITaskMarket.TaskMarketMissingHash.selector, p.specHash, bytes32(0), p.modelHash)
        );
        p = _params();
        p.modelHash = 0;
        _expectSubmitRevert(
            p, abi.encodeWithSelector(ITaskMarket.TaskMarketMissingHash.selector, p.specHash, p.dataRoot, bytes32(0))
        );
    }

    function test_submit_revertsOnSpecUri() public {
        ITaskMarket.TaskParams memory p = _params();
        p.specUri = "";
        _expectSubmitRevert(p, abi.encodeWithSelector(ITaskMarket.TaskMarketInvalidSpecUri.selector, 0, 256));
        p.specUri = string(new bytes(257));
        _expectSubmitRevert(p, abi.encodeWithSelector(ITaskMarket.TaskMarketInvalidSpecUri.selector, 257, 256));
    }

    function test_submit_revertsOnItemCount() public {
        ITaskMarket.TaskParams memory p = _params();
        p.itemCount = 0;
        _expectSubmitRevert(p, abi.encodeWithSelector(ITaskMarket.TaskMarketInvalidItemCount.selector, uint32(0)));
    }

    function test_submit_revertsOnCheckpoints() public {
        ITaskMarket.TaskParams memory p = _params();
        p.checkpoints = 0;
        _expectSubmitRevert(p, _checkpointsError(0, ITEMS, 32));
        p.checkpoints = 11; // > itemCount
        _expectSubmitRevert(p, _checkpointsError(11, ITEMS, 32));
        p.itemCount = 100;
        p.checkpoints = 33; // > maxCheckpoints
        _expectSubmitRevert(p, _checkpointsError(33, 100, 32));
    }

    function _checkpointsError(uint8 k, uint32 items, uint8 max) internal pure returns (bytes memory) {
        return abi.encodeWithSelector(ITaskMarket.TaskMarketInvalidCheckpoints.selector, k, items, max);
    }

    function test_submit_revertsOnCouncilSize() public {
        ITaskMarket.TaskParams memory p = _params();
        p.councilSize = 0;
        _expectSubmitRevert(
            p, abi.encodeWithSelector(ITaskMarket.TaskMarketInvalidCouncilSize.selector, uint8(0), uint8(15))
        );
        p.councilSize = 16;
        p.maxBids = 20;
        _expectSubmitRevert(
            p, abi.encodeWithSelector(ITaskMarket.TaskMarketInvalidCouncilSize.selector, uint8(16), uint8(15))
        );
    }

    function test_submit_revertsOnMaxBids() public {
        ITaskMarket.TaskParams memory p = _params();
        p.maxBids = 0;
        _expectSubmitRevert(
            p, abi.encodeWithSelector(ITaskMarket.TaskMarketInvalidMaxBids.selector, uint8(0), 1, uint8(64))
        );
        p.maxBids = 65;
        _expectSubmitRevert(
            p, abi.encodeWithSelector(ITaskMarket.TaskMarketInvalidMaxBids.selector, uint8(65), 1, uint8(64))
        );
    }

    /// @notice The council comes from the pool, not from the bids: maxBids may be below the council.
    function test_submit_maxBidsBelowCouncilSize() public {
        ITaskMarket.TaskParams memory p = _params();
        p.councilSize = 5;
        p.maxBids = 1;
        vm.assertEq(_task(_submit(p)).maxBids, 1);
    }

    /// @notice A config whose largest council exceeds its bid cap is valid now.
    function test_setConfig_councilAboveBidCap() public {
        ITaskMarket.Config memory c = _defaultConfig();
        c.maxBids = 5;
        c.maxCouncilSize = 9;
        vm.prank(admin);
        market.setConfig(c);
        vm.assertEq(market.config().maxCouncilSize, 9);
    }

    function test_submit_revertsOnMaxPrice() public {
        ITaskMarket.TaskParams memory p = _params();
        p.maxPrice = 0;
        _expectSubmitRevert(p, abi.encodeWithSelector(ITaskMarket.TaskMarketInvalidMaxPrice.selector, 0));
        p.maxPrice = type(uint96).max;
        _expectSubmitRevert(
            p, abi.encodeWithSelector(ITaskMarket.TaskMarketInvalidMaxPrice.selector, uint256(type(uint96).max))
        );
    }

    function test_submit_largestMaxPricePassesValidation() public {
        ITaskMarket.TaskParams memory p = _params();
        p.maxPrice = type(uint96).max - 1;
        p.councilFeePerVote = 0;
        // valid: it is the escrow transfer that fails (nobody holds 2^96 - 2 wei of oGPU)
        _expectSubmitRevert(
            p,
            abi.encodeWithSelector(
                IERC20Errors.ERC20InsufficientBalance.selector, client, FUNDS, uint256(type(uint96).max - 1)
            )
        );
    }

    function test_submit_revertsOnCollateral() public {
        ITaskMarket.TaskParams memory p = _params();
        p.collateral = 1e18 - 1;
        _expectSubmitRevert(
            p, abi.encodeWithSelector(ITaskMarket.TaskMarketCollateralTooLow.selector, 1e18 - 1, 1e18)
        );
        p.collateral = uint256(type(uint96).max) + 1;
        _expectSubmitRevert(
            p, abi.encodeWithSelector(SafeCast.SafeCastOverflowedUintDowncast.selector, uint8(96), p.collateral)
        );
    }

    function test_submit_revertsOnAmountOverflows() public {
        ITaskMarket.TaskParams memory p = _params();
        p.councilFeePerVote = uint256(type(uint96).max) + 1;
        _expectSubmitRevert(
            p, abi.encodeWithSelector(SafeCast.SafeCastOverflowedUintDowncast.selector, uint8(96), p.councilFeePerVote)
        );
        // each part fits, the escrow does not
        p.councilFeePerVote = type(uint96).max / 4;
        uint256 escrow = p.maxPrice + uint256(p.councilFeePerVote) * COUNCIL * CHECKPOINTS;
        _expectSubmitRevert(
            p, abi.encodeWithSelector(SafeCast.SafeCastOverflowedUintDowncast.selector, uint8(96), escrow)
        );
    }

    function test_submit_revertsOnWindows() public {
        ITaskMarket.TaskParams memory p = _params();
        p.biddingWindow = 59;
        _expectSubmitRevert(p, _windowError(ITaskMarket.TaskMarketInvalidBiddingWindow.selector, 59, 60, 7 days));
        p.biddingWindow = 7 days + 1;
        _expectSubmitRevert(
            p, _windowError(ITaskMarket.TaskMarketInvalidBiddingWindow.selector, 7 days + 1, 60, 7 days)
        );
        p = _params();
        p.checkpointWindow = 59;
        _expectSubmitRevert(p, _windowError(ITaskMarket.TaskMarketInvalidCheckpointWindow.selector, 59, 60, 30 days));
        p.checkpointWindow = 30 days + 1;
        _expectSubmitRevert(
            p, _windowError(ITaskMarket.TaskMarketInvalidCheckpointWindow.selector, 30 days + 1, 60, 30 days)
        );
        p = _params();
        p.commitWindow = 59;
        _expectSubmitRevert(p, _windowError(ITaskMarket.TaskMarketInvalidVerdictWindow.selector, 59, 60, 7 days));
        p.commitWindow = 7 days + 1;
        _expectSubmitRevert(
            p, _windowError(ITaskMarket.TaskMarketInvalidVerdictWindow.selector, 7 days + 1, 60, 7 days)
        );
        p = _params();
        p.revealWindow = 59;
        _expectSubmitRevert(p, _windowError(ITaskMarket.TaskMarketInvalidVerdictWindow.selector, 59, 60, 7 days));
        p.revealWindow = 7 days + 1;
        _expectSubmitRevert(
            p, _windowError(ITaskMarket.TaskMarketInvalidVerdictWindow.selector, 7 days + 1, 60, 7 days)
        );
    }

    function _windowError(bytes4 selector, uint32 w, uint32 min, uint32 max) internal pure returns (bytes memory) {
        return abi.encodeWithSelector(selector, w, min, max);
    }

    function test_submit_revertsOnDeadlines() public {
        uint32[2][4] memory bad = [
            [uint32(1 hours), uint32(0)], // soft without hard
            [uint32(2 hours), uint32(2 hours)], // soft == hard
            [uint32(3 hours), uint32(2 hours)], // soft > hard
            [uint32(0), uint32(365 days + 1)] // hard too far
        ];
        for (uint256 i; i < bad.length; ++i) {
            ITaskMarket.TaskParams memory p = _params();
            p.softDeadline = bad[i][0];
            p.hardDeadline = bad[i][1];
            _expectSubmitRevert(
                p, abi.encodeWithSelector(ITaskMarket.TaskMarketInvalidDeadlines.selector, bad[i][0], bad[i][1])
            );
        }
        ITaskMarket.TaskParams memory ok = _params();
        ok.softDeadline = 0;
        ok.hardDeadline = 1;
        _submit(ok);
    }

    function test_submit_revertsWithoutAllowance() public {
        vm.prank(client);
        token.approve(address(market), 0);
        _expectSubmitRevert(
            _params(),
            abi.encodeWithSelector(IERC20Errors.ERC20InsufficientAllowance.selector, address(market), 0, 104e18)
        );
    }

    function _expectSubmitRevert(ITaskMarket.TaskParams memory p, bytes memory err) internal {
        vm.expectRevert(err);
        vm.prank(client);
        market.submit(p);
    }

    // ================================================================== submitWithPermit

    function test_submitWithPermit_withoutPriorApproval() public {
        vm.prank(client);
        token.approve(address(market), 0);
        ITaskMarket.TaskParams memory p = _params();
        uint256 deadline = block.timestamp + 1 hours;
        (uint8 v, bytes32 r, bytes32 s) = _signPermit(clientKey, client, address(market), 104e18, deadline);
        vm.expectEmit(address(market));
        emit ITaskMarket.TaskSubmitted(1, client, p, uint64(START + BIDDING), uint64(START), 104e18, 1e18, 5_000);
        vm.prank(client);
        uint256 id = market.submitWithPermit(p, deadline, v, r, s);
        vm.assertEq(id, 1);
        vm.assertEq(token.balanceOf(address(market)), 104e18);
        vm.assertEq(token.allowance(client, address(market)), 0, "the permit's allowance is used up");
    }

    function test_submitWithPermit_frontRunPermitStillWorks() public {
        vm.prank(client);
        token.approve(address(market), 0);
        uint256 deadline = block.timestamp + 1 hours;
        (uint8 v, bytes32 r, bytes32 s) = _signPermit(clientKey, client, address(market), 104e18, deadline);
        token.permit(client, address(market), 104e18, deadline, v, r, s); // someone front-runs it
        vm.prank(client);
        market.submitWithPermit(_params(), deadline, v, r, s);
        vm.assertEq(token.balanceOf(address(market)), 104e18);
    }

    function test_submitWithPermit_badPermitWithoutAllowanceReverts() public {
        vm.prank(client);
        token.approve(address(market), 0);
        uint256 deadline = block.timestamp + 1 hours;
        // signed for a smaller value: the permit fails, the transfer then lacks the allowance
        (uint8 v, bytes32 r, bytes32 s) = _signPermit(clientKey, client, address(market), 1e18, deadline);
        vm.expectRevert(
            abi.encodeWithSelector(IERC20Errors.ERC20InsufficientAllowance.selector, address(market), 0, 104e18)
        );
        vm.prank(client);
        market.submitWithPermit(_params(), deadline, v, r, s);
    }

    function test_submitWithPermit_validatesParams() public {
        ITaskMarket.TaskParams memory p = _params();
        p.itemCount = 0;
        vm.expectRevert(abi.encodeWithSelector(ITaskMarket.TaskMarketInvalidItemCount.selector, uint32(0)));
        vm.prank(client);
        market.submitWithPermit(p, 0, 0, 0, 0);
    }

    // ================================================================== cancel

    function test_cancel_refundsAndEmits() public {
        uint256 id = _submit();
        vm.expectEmit(address(market));
        emit ITaskMarket.TaskCancelled(id, 104e18);
        vm.expectEmit(address(token));
        emit IERC20.Transfer(address(market), client, 104e18);
        vm.prank(client);
        market.cancel(id);
        ITaskMarket.Task memory t = _task(id);
        vm.assertEq(uint8(t.status), uint8(ITaskMarket.Status.Cancelled));
        vm.assertEq(t.escrow, 0);
        vm.assertEq(token.balanceOf(client), FUNDS);
        vm.assertEq(token.balanceOf(address(market)), 0);
    }

    function test_cancel_afterWindowWithoutBids() public {
        uint256 id = _submit();
        vm.warp(START + BIDDING + 1 days);
        vm.prank(client);
        market.cancel(id);
        vm.assertEq(uint8(_task(id).status), uint8(ITaskMarket.Status.Cancelled));
    }

    function test_cancel_revertsOnUnknownTask() public {
        vm.expectRevert(abi.encodeWithSelector(ITaskMarket.TaskMarketUnknownTask.selector, 7));
        vm.prank(client);
        market.cancel(7);
    }

    function test_cancel_revertsForNonClient() public {
        uint256 id = _submit();
        vm.expectRevert(abi.encodeWithSelector(ITaskMarket.TaskMarketNotClient.selector, id, stranger));
        vm.prank(stranger);
        market.cancel(id);
    }

    function test_cancel_revertsWithBids() public {
        uint256 id = _submit();
        _bid(id, providers[0], 50e18);
        vm.expectRevert(abi.encodeWithSelector(ITaskMarket.TaskMarketHasBids.selector, id, uint8(1)));
        vm.prank(client);
        market.cancel(id);
    }

    function test_cancel_revertsWhenNotOpen() public {
        uint256 id = _submit();
        vm.prank(client);
        market.cancel(id);
        vm.expectRevert(
            abi.encodeWithSelector(
                ITaskMarket.TaskMarketUnexpectedStatus.selector, id, ITaskMarket.Status.Cancelled, ITaskMarket.Status.Open
            )
        );
        vm.prank(client);
        market.cancel(id);
    }

    // ================================================================== views of unknown / open tasks

    function test_views_unknownTask() public view {
        ITaskMarket.Task memory t = _task(42);
        vm.assertEq(uint8(t.status), uint8(ITaskMarket.Status.None));
        vm.assertEq(t.client, address(0));
        vm.assertEq(market.bidCount(42), 0);
        vm.assertEq(market.getBid(42, 0).provider, address(0));
        (bool found,,) = market.bestBid(42);
        vm.assertFalse(found);
        vm.assertEq(market.councilOf(42).length, 0);
        vm.assertEq(market.lockedFor(42, providers[0]), 0);
        vm.assertEq(market.sampleSeed(42, 0), bytes32(0));
        vm.assertEq(market.memberSampleSeed(42, 0, providers[0]), bytes32(0));
        vm.assertFalse(market.verdictOf(42, 0, providers[0]).member);
    }

    function test_checkpointOf_revertsOnUnknownTaskOrCheckpoint() public {
        vm.expectRevert(abi.encodeWithSelector(ITaskMarket.TaskMarketUnknownTask.selector, 42));
        market.checkpointOf(42, 0);
        uint256 id = _submit();
        vm.expectRevert(
            abi.encodeWithSelector(ITaskMarket.TaskMarketInvalidCheckpoint.selector, id, 2, CHECKPOINTS)
        );
        market.checkpointOf(id, 2);
    }

    function test_checkpointOf_segmentsBeforeAssignment() public {
        uint256 id = _submit();
        ITaskMarket.Checkpoint memory c0 = market.checkpointOf(id, 0);
        ITaskMarket.Checkpoint memory c1 = market.checkpointOf(id, 1);
        vm.assertEq(uint8(c0.state), uint8(ITaskMarket.CheckpointState.None));
        vm.assertEq(c0.firstItem, 0);
        vm.assertEq(c0.itemCount, 5);
        vm.assertEq(c1.firstItem, 5);
        vm.assertEq(c1.itemCount, 5);
        vm.assertEq(c0.share, 0, "no price before assignment");
        vm.assertEq(c0.resultRoot, bytes32(0));
    }

    function test_roundIdOf() public view {
        vm.assertEq(market.roundIdOf(1, 0), 256);
        vm.assertEq(market.roundIdOf(3, 31), (3 << 8) | 31);
    }

    function test_verdictCommitment_bindsChainMarketRoundVerdictSaltVoter() public view {
        bytes32 salt = keccak256("s");
        address v = providers[1];
        bytes32 c = market.verdictCommitment(5, 1, true, salt, v);
        vm.assertEq(c, keccak256(abi.encode(block.chainid, address(market), (uint256(5) << 8) | 1, true, salt, v)));
        vm.assertNotEq(c, market.verdictCommitment(5, 2, true, salt, v), "other round");
        vm.assertNotEq(c, market.verdictCommitment(6, 1, true, salt, v), "other task");
        vm.assertNotEq(c, market.verdictCommitment(5, 1, false, salt, v), "other verdict");
        vm.assertNotEq(c, market.verdictCommitment(5, 1, true, bytes32(0), v), "other salt");
        vm.assertNotEq(c, market.verdictCommitment(5, 1, true, salt, providers[2]), "other voter");
    }
}
