// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IStreamMarket} from "./interfaces/IStreamMarket.sol";

/// @dev StreamMarket's hard limits shared with its rules.
uint8 constant STREAM_MAX_COUNCIL_SIZE = 16;
uint32 constant STREAM_MAX_DURATION = 365 days;
uint256 constant STREAM_MAX_URI_LENGTH = 256;

/// @title StreamMarketRules
/// @notice The parameter rules of {StreamMarket}: which stream parameters and which configs are
///         valid, and how a settled dispute's money is split. StreamMarket deploys one in its constructor and calls it on create and setConfig;
///         it reverts with the IStreamMarket errors, which those calls bubble up unchanged.
/// @dev A separate contract only for code size: StreamMarket's runtime code is at the EIP-170
///      limit (24,576 bytes), and this code then sits in its creation code instead.
contract StreamMarketRules {
    uint256 private constant BPS = 10_000;
    /// @dev A disputer other than the client gets this share of what the voters leave of an Invalid slash.
    uint256 private constant DISPUTER_REWARD_BPS = 5_000;

    /// @notice How a dispute is settled (see IStreamMarket.DisputeResolved and DisputerRewarded).
    /// @param slashed The accused's collateral slashed (Invalid only).
    /// @param rewardEach Paid to each majority voter.
    /// @param toClient Paid to the client.
    /// @param toProvider Paid to the accused (Valid: the bond less the voters' share).
    /// @param toDisputer Paid to a disputer other than the client (Invalid: its bond and its share).
    struct Outcome {
        uint256 slashed;
        uint256 rewardEach;
        uint256 toClient;
        uint256 toProvider;
        uint256 toDisputer;
    }

    /// @notice The split of a settled dispute (see IStreamMarket, "Disputes"). `voters`: the
    ///         majority's revealed votes (approvals when valid, rejections > 0 when invalid);
    ///         `slashed`: the accused's collateral taken when invalid.
    function disputeOutcome(
        bool valid,
        uint256 bond,
        uint256 slashed,
        uint256 voterRewardBps,
        uint256 voters,
        bool byClient
    ) external pure returns (Outcome memory o) {
        if (valid) {
            if (voters != 0) o.rewardEach = bond * voterRewardBps / BPS / voters;
            o.toProvider = bond - o.rewardEach * voters;
            return o;
        }
        // The slash: the reject voters' share out; the rest to the client, or, when someone else
        // proved it, the bond back and a share of the rest to that disputer.
        o.slashed = slashed;
        o.rewardEach = slashed * voterRewardBps / BPS / voters;
        uint256 rest = slashed - o.rewardEach * voters;
        if (byClient) {
            o.toClient = rest + bond;
        } else {
            o.toDisputer = rest * DISPUTER_REWARD_BPS / BPS;
            o.toClient = rest - o.toDisputer;
            o.toDisputer += bond;
        }
    }

    /// @notice Reverts unless `p` is a valid stream under config `c` (see IStreamMarket.create).
    function checkParams(IStreamMarket.StreamParams calldata p, IStreamMarket.Config calldata c) external pure {
        if (p.modelHash == bytes32(0) || p.specHash == bytes32(0)) {
            revert IStreamMarket.StreamMarketMissingHash(p.modelHash, p.specHash);
        }
        uint256 uriLength = bytes(p.specUri).length;
        if (uriLength == 0 || uriLength > STREAM_MAX_URI_LENGTH) {
            revert IStreamMarket.StreamMarketInvalidSpecUri(uriLength, STREAM_MAX_URI_LENGTH);
        }
        if (p.councilSize == 0 || p.councilSize > c.maxCouncilSize) {
            revert IStreamMarket.StreamMarketInvalidCouncilSize(p.councilSize, c.maxCouncilSize);
        }
        bool weighted = p.responseMethod == IStreamMarket.ResponseMethod.Weighted;
        if (weighted ? (p.weightBps == 0 || p.weightBps > BPS) : p.weightBps != 0) {
            revert IStreamMarket.StreamMarketInvalidWeight(p.responseMethod, p.weightBps);
        }
        if (p.collateral < c.minCollateral) revert IStreamMarket.StreamMarketCollateralTooLow(p.collateral, c.minCollateral);
        if (p.disputeBond < c.minDisputeBond) {
            revert IStreamMarket.StreamMarketDisputeBondTooLow(p.disputeBond, c.minDisputeBond);
        }
        if (p.maxDowntime == 0 || p.maxDowntime > STREAM_MAX_DURATION) {
            revert IStreamMarket.StreamMarketInvalidMaxDowntime(p.maxDowntime, STREAM_MAX_DURATION);
        }
        _checkWindow(p.unsubscribeNotice, c.minNotice, c.maxNotice, true);
        _checkWindow(p.closeNotice, c.minNotice, c.maxNotice, true);
        _checkWindow(p.commitWindow, c.minVerdictWindow, c.maxVerdictWindow, false);
        _checkWindow(p.revealWindow, c.minVerdictWindow, c.maxVerdictWindow, false);
    }

    /// @notice Reverts StreamMarketInvalidConfig(field) unless `c` is a valid config.
    function checkConfig(IStreamMarket.Config calldata c) external pure {
        string memory invalid;
        if (c.maxCouncilSize == 0 || c.maxCouncilSize > STREAM_MAX_COUNCIL_SIZE) invalid = "maxCouncilSize";
        else if (c.nonRevealSlashBps > BPS) invalid = "nonRevealSlashBps";
        else if (c.voterRewardBps > BPS) invalid = "voterRewardBps";
        else if (c.minCollateral == 0) invalid = "minCollateral";
        else if (!_validBounds(c.minNotice, c.maxNotice)) invalid = "notice";
        else if (!_validBounds(c.minVerdictWindow, c.maxVerdictWindow)) invalid = "verdictWindow";
        if (bytes(invalid).length != 0) revert IStreamMarket.StreamMarketInvalidConfig(invalid);
    }

    function _checkWindow(uint32 value, uint32 min, uint32 max, bool notice) private pure {
        if (value >= min && value <= max) return;
        if (notice) revert IStreamMarket.StreamMarketInvalidNotice(value, min, max);
        revert IStreamMarket.StreamMarketInvalidVerdictWindow(value, min, max);
    }

    function _validBounds(uint32 min, uint32 max) private pure returns (bool) {
        return min != 0 && min <= max && max <= STREAM_MAX_DURATION;
    }
}
