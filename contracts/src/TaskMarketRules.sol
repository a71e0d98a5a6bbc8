// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ITaskMarket} from "./interfaces/ITaskMarket.sol";

/// @dev TaskMarket's hard limits (its MAX_* constants).
uint8 constant TASK_MAX_BIDS = 64;
uint8 constant TASK_MAX_COUNCIL_SIZE = 15;
uint8 constant TASK_MAX_CHECKPOINTS = 32;
uint32 constant TASK_MAX_DURATION = 365 days;
uint256 constant TASK_MAX_SPEC_URI_LENGTH = 256;

/// @title TaskMarketRules
/// @notice The parameter rules of {TaskMarket}: which task parameters and which configs are
///         valid. TaskMarket deploys one in its constructor and calls it on submit and setConfig;
///         it reverts with the ITaskMarket errors, which those calls bubble up unchanged.
/// @dev A separate contract only for code size: TaskMarket's runtime code is at the EIP-170
///      limit (24,576 bytes), and this code then sits in its creation code instead.
contract TaskMarketRules {
    uint256 private constant BPS = 10_000;

    /// @notice Reverts unless `p` is a valid task under config `c` (see ITaskMarket.submit).
    function checkParams(ITaskMarket.TaskParams calldata p, ITaskMarket.Config calldata c) external pure {
        if (p.specHash == bytes32(0) || p.dataRoot == bytes32(0) || p.modelHash == bytes32(0)) {
            revert ITaskMarket.TaskMarketMissingHash(p.specHash, p.dataRoot, p.modelHash);
        }
        uint256 uriLength = bytes(p.specUri).length;
        if (uriLength == 0 || uriLength > TASK_MAX_SPEC_URI_LENGTH) {
            revert ITaskMarket.TaskMarketInvalidSpecUri(uriLength, TASK_MAX_SPEC_URI_LENGTH);
        }
        if (p.itemCount == 0) revert ITaskMarket.TaskMarketInvalidItemCount(p.itemCount);
        if (p.checkpoints == 0 || p.checkpoints > p.itemCount || p.checkpoints > c.maxCheckpoints) {
            revert ITaskMarket.TaskMarketInvalidCheckpoints(p.checkpoints, p.itemCount, c.maxCheckpoints);
        }
        if (p.councilSize == 0 || p.councilSize > c.maxCouncilSize) {
            revert ITaskMarket.TaskMarketInvalidCouncilSize(p.councilSize, c.maxCouncilSize);
        }
        if (p.maxBids == 0 || p.maxBids > c.maxBids) revert ITaskMarket.TaskMarketInvalidMaxBids(p.maxBids, 1, c.maxBids);
        if (p.maxPrice == 0 || p.maxPrice >= type(uint96).max) revert ITaskMarket.TaskMarketInvalidMaxPrice(p.maxPrice);
        if (p.collateral < c.minCollateral) revert ITaskMarket.TaskMarketCollateralTooLow(p.collateral, c.minCollateral);
        if (p.biddingWindow < c.minBiddingWindow || p.biddingWindow > c.maxBiddingWindow) {
            revert ITaskMarket.TaskMarketInvalidBiddingWindow(p.biddingWindow, c.minBiddingWindow, c.maxBiddingWindow);
        }
        if (p.checkpointWindow < c.minCheckpointWindow || p.checkpointWindow > c.maxCheckpointWindow) {
            revert ITaskMarket.TaskMarketInvalidCheckpointWindow(p.checkpointWindow, c.minCheckpointWindow, c.maxCheckpointWindow);
        }
        if (p.commitWindow < c.minVerdictWindow || p.commitWindow > c.maxVerdictWindow) {
            revert ITaskMarket.TaskMarketInvalidVerdictWindow(p.commitWindow, c.minVerdictWindow, c.maxVerdictWindow);
        }
        if (p.revealWindow < c.minVerdictWindow || p.revealWindow > c.maxVerdictWindow) {
            revert ITaskMarket.TaskMarketInvalidVerdictWindow(p.revealWindow, c.minVerdictWindow, c.maxVerdictWindow);
        }
        bool noPenalty = p.softDeadline == 0 && p.hardDeadline == 0;
        if (!noPenalty && (p.softDeadline >= p.hardDeadline || p.hardDeadline > TASK_MAX_DURATION)) {
            revert ITaskMarket.TaskMarketInvalidDeadlines(p.softDeadline, p.hardDeadline);
        }
    }

    /// @notice Reverts TaskMarketInvalidConfig(field) unless `c` is a valid config.
    function checkConfig(ITaskMarket.Config calldata c) external pure {
        string memory invalid;
        if (c.maxBids < 2 || c.maxBids > TASK_MAX_BIDS) invalid = "maxBids";
        else if (c.maxCouncilSize == 0 || c.maxCouncilSize > TASK_MAX_COUNCIL_SIZE) invalid = "maxCouncilSize";
        else if (c.maxCheckpoints == 0 || c.maxCheckpoints > TASK_MAX_CHECKPOINTS) invalid = "maxCheckpoints";
        else if (c.nonRevealSlashBps > BPS) invalid = "nonRevealSlashBps";
        else if (c.slashRewardBps > BPS) invalid = "slashRewardBps";
        else if (c.minCollateral == 0) invalid = "minCollateral";
        else if (!_validBounds(c.minBiddingWindow, c.maxBiddingWindow)) invalid = "biddingWindow";
        else if (!_validBounds(c.minCheckpointWindow, c.maxCheckpointWindow)) invalid = "checkpointWindow";
        else if (!_validBounds(c.minVerdictWindow, c.maxVerdictWindow)) invalid = "verdictWindow";
        else if (c.minOpenTime > c.minBiddingWindow) invalid = "minOpenTime";
        if (bytes(invalid).length != 0) revert ITaskMarket.TaskMarketInvalidConfig(invalid);
    }

    function _validBounds(uint32 min, uint32 max) private pure returns (bool) {
        return min != 0 && min <= max && max <= TASK_MAX_DURATION;
    }
}
