// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Permit.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";

import {IProviderRegistry} from "./interfaces/IProviderRegistry.sol";
import {CouncilPool} from "./libraries/CouncilPool.sol";

/// @title ProviderRegistry
/// @notice Provider registration, stake with an unbonding period, and the trust lock that the
///         market contracts use to commit stake as collateral. See {IProviderRegistry}.
/// @dev Storage is packed so that what a market touches on every bid (stake, lock,
///      registration flag) sits in one slot: `isRegistered` + `lock` read it once cold.
///      Amounts are stored as uint96 (2^96 - 1 > 7.9e28 > the oGPU cap of 2.1e25).
contract ProviderRegistry is IProviderRegistry, AccessControl, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;
    using CouncilPool for CouncilPool.Pool;

    /// @inheritdoc IProviderRegistry
    bytes32 public constant MARKET_ROLE = keccak256("MARKET_ROLE");

    /// @inheritdoc IProviderRegistry
    uint64 public constant MAX_UNBONDING_PERIOD = 365 days;

    /// @inheritdoc IProviderRegistry
    uint256 public constant MAX_ENDPOINT_LENGTH = 256;

    /// @inheritdoc IProviderRegistry
    uint256 public constant POOL_CAPACITY = CouncilPool.CAPACITY;

    /// @inheritdoc IProviderRegistry
    uint256 public constant MAX_COUNCIL_MODELS = 4;

    /// @inheritdoc IProviderRegistry
    uint256 public constant MAX_COUNCIL_SEATS = 16;

    /// @inheritdoc IProviderRegistry
    uint256 public constant MAX_COUNCIL_EXCLUDED = 8;

    /// @inheritdoc IProviderRegistry
    uint256 public constant MAX_COUNCIL_SKIPS = 16;

    /// @dev One account's state.
    struct Account {
        // slot 0: what markets read and write on every bid
        uint96 staked; // active stake, locked included, unbonding excluded
        uint96 locked; // collateral locked by markets, <= staked
        uint40 registeredAt; // 0 when not registered
        bool registered;
        uint8 councilCount; // council pools joined, <= MAX_COUNCIL_MODELS: 0 skips the pool sync
        // slot 1: the unbonding bucket
        uint96 unbonding;
        uint64 unbondingEnd; // 0 when the bucket is empty
        // slot 2..
        bytes32 infoHash;
        string endpoint;
        bytes32[4] councilModels; // the first councilCount entries
    }

    IERC20 private immutable _token;

    uint64 private _unbondingPeriod;

    // One slot: both move together on unstake requests.
    uint128 private _totalStaked;
    uint128 private _totalUnbonding;

    mapping(address account => Account) private _accounts;

    mapping(bytes32 model => CouncilPool.Pool) private _pools;

    /// @param token_ The staking token (oGPU, or an existing plain ERC-20 with ERC-2612).
    /// @param unbondingPeriod_ Seconds between an unstake request and its claim.
    /// @param admin Receives DEFAULT_ADMIN_ROLE; it grants MARKET_ROLE to the markets.
    constructor(IERC20 token_, uint64 unbondingPeriod_, address admin) {
        if (address(token_) == address(0)) revert ProviderRegistryInvalidToken(address(token_));
        if (admin == address(0)) revert ProviderRegistryInvalidAdmin(admin);
        _checkUnbondingPeriod(unbondingPeriod_);
        _token = token_;
        _unbondingPeriod = unbondingPeriod_;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        emit UnbondingPeriodUpdated(0, unbondingPeriod_);
    }

    // ------------------------------------------------------------------ registration

    /// @inheritdoc IProviderRegistry
    function register(string calldata endpoint, bytes32 infoHash) external {
        Account storage a = _accounts[msg.sender];
        if (a.registered) revert ProviderRegistryAlreadyRegistered(msg.sender);
        _checkEndpoint(endpoint);
        a.registered = true;
        a.registeredAt = uint40(block.timestamp);
        a.infoHash = infoHash;
        a.endpoint = endpoint;
        emit ProviderRegistered(msg.sender, endpoint, infoHash);
    }

    /// @inheritdoc IProviderRegistry
    function updateProvider(string calldata endpoint, bytes32 infoHash) external {
        Account storage a = _accounts[msg.sender];
        if (!a.registered) revert ProviderRegistryNotRegistered(msg.sender);
        _checkEndpoint(endpoint);
        a.infoHash = infoHash;
        a.endpoint = endpoint;
        emit ProviderUpdated(msg.sender, endpoint, infoHash);
    }

    /// @inheritdoc IProviderRegistry
    function deregister() external {
        Account storage a = _accounts[msg.sender];
        if (!a.registered) revert ProviderRegistryNotRegistered(msg.sender);
        if (a.locked != 0) revert ProviderRegistryCollateralLocked(msg.sender, a.locked);
        for (uint256 n = a.councilCount; n != 0; --n) {
            _leaveCouncil(msg.sender, a, a.councilModels[n - 1]);
        }
        a.registered = false;
        a.registeredAt = 0;
        delete a.infoHash;
        delete a.endpoint;
        emit ProviderDeregistered(msg.sender);
    }

    // ------------------------------------------------------------------ stake

    /// @inheritdoc IProviderRegistry
    function stake(uint256 amount) external nonReentrant {
        _stake(msg.sender, amount);
    }

    /// @inheritdoc IProviderRegistry
    function stakeWithPermit(uint256 amount, uint256 deadline, uint8 v, bytes32 r, bytes32 s) external nonReentrant {
        // A front-run permit makes this call fail; the allowance it set is what we need anyway.
        try IERC20Permit(address(_token)).permit(msg.sender, address(this), amount, deadline, v, r, s) {} catch {}
        _stake(msg.sender, amount);
    }

    /// @inheritdoc IProviderRegistry
    function requestUnstake(uint256 amount) external {
        if (amount == 0) revert ProviderRegistryZeroAmount();
        Account storage a = _accounts[msg.sender];
        uint256 staked = a.staked;
        uint256 free = staked - a.locked;
        if (amount > free) revert ProviderRegistryInsufficientFreeStake(msg.sender, amount, free);
        uint256 unbonding = a.unbonding + amount;
        uint64 end = uint64(block.timestamp) + _unbondingPeriod;
        a.staked = uint96(staked - amount); // amount <= free <= staked
        a.unbonding = SafeCast.toUint96(unbonding);
        a.unbondingEnd = end;
        _totalStaked -= uint128(amount);
        _totalUnbonding += uint128(amount);
        emit UnstakeRequested(msg.sender, amount, unbonding, end);
        _syncCouncil(msg.sender, a, staked - amount);
    }

    /// @inheritdoc IProviderRegistry
    function cancelUnstake() external {
        Account storage a = _accounts[msg.sender];
        uint256 amount = a.unbonding;
        if (amount == 0) revert ProviderRegistryNothingToCancel(msg.sender);
        uint256 staked = a.staked + amount;
        a.staked = SafeCast.toUint96(staked);
        a.unbonding = 0;
        a.unbondingEnd = 0;
        _totalStaked += uint128(amount);
        _totalUnbonding -= uint128(amount);
        emit UnstakeCancelled(msg.sender, amount, staked);
        _syncCouncil(msg.sender, a, staked);
    }

    /// @inheritdoc IProviderRegistry
    function claim() external nonReentrant {
        Account storage a = _accounts[msg.sender];
        uint256 amount = a.unbonding;
        if (amount == 0) revert ProviderRegistryNothingToClaim(msg.sender);
        uint64 end = a.unbondingEnd;
        if (block.timestamp < end) revert ProviderRegistryUnbondingNotOver(msg.sender, end, uint64(block.timestamp));
        a.unbonding = 0;
        a.unbondingEnd = 0;
        _totalUnbonding -= uint128(amount);
        emit Claimed(msg.sender, amount);
        _token.safeTransfer(msg.sender, amount);
    }

    // ------------------------------------------------------------------ trust lock

    /// @inheritdoc IProviderRegistry
    function lock(address provider, uint256 amount) external onlyRole(MARKET_ROLE) {
        if (amount == 0) revert ProviderRegistryZeroAmount();
        Account storage a = _accounts[provider];
        uint256 locked = a.locked;
        uint256 free = a.staked - locked;
        if (amount > free) revert ProviderRegistryInsufficientFreeStake(provider, amount, free);
        locked += amount;
        a.locked = uint96(locked); // <= staked < 2^96
        emit CollateralLocked(provider, msg.sender, amount, locked);
    }

    /// @inheritdoc IProviderRegistry
    function unlock(address provider, uint256 amount) external onlyRole(MARKET_ROLE) {
        if (amount == 0) revert ProviderRegistryZeroAmount();
        Account storage a = _accounts[provider];
        uint256 locked = a.locked;
        if (amount > locked) revert ProviderRegistryInsufficientLocked(provider, amount, locked);
        locked -= amount;
        a.locked = uint96(locked);
        emit CollateralUnlocked(provider, msg.sender, amount, locked);
    }

    /// @inheritdoc IProviderRegistry
    function lockRegistered(address provider, uint256 amount, address released) external onlyRole(MARKET_ROLE) {
        if (amount == 0) revert ProviderRegistryZeroAmount();
        if (released != address(0)) _unlock(released, amount);
        Account storage a = _accounts[provider];
        if (!a.registered) revert ProviderRegistryNotRegistered(provider);
        uint256 locked = a.locked; // the same slot as `registered`
        uint256 free = a.staked - locked;
        if (amount > free) revert ProviderRegistryInsufficientFreeStake(provider, amount, free);
        locked += amount;
        a.locked = uint96(locked); // <= staked < 2^96
        emit CollateralLocked(provider, msg.sender, amount, locked);
    }

    /// @inheritdoc IProviderRegistry
    function slash(address provider, uint256 amount, address recipient)
        external
        onlyRole(MARKET_ROLE)
        nonReentrant
        returns (uint256 slashed)
    {
        if (amount == 0) revert ProviderRegistryZeroAmount();
        if (recipient == address(0) || recipient == address(this)) revert ProviderRegistryInvalidRecipient(recipient);
        Account storage a = _accounts[provider];
        uint256 locked = a.locked;
        slashed = amount < locked ? amount : locked;
        if (slashed == 0) return 0;
        a.locked = uint96(locked - slashed);
        uint256 staked = a.staked - slashed;
        a.staked = uint96(staked);
        _totalStaked -= uint128(slashed);
        emit Slashed(provider, msg.sender, recipient, slashed);
        _syncCouncil(provider, a, staked);
        _token.safeTransfer(recipient, slashed);
    }

    // ------------------------------------------------------------------ council pools

    /// @inheritdoc IProviderRegistry
    function joinCouncil(bytes32 model) external {
        Account storage a = _checkJoin(msg.sender, model);
        CouncilPool.Pool storage pool = _pools[model];
        if (pool.isFull()) revert ProviderRegistryCouncilPoolFull(model, POOL_CAPACITY);
        _joinCouncil(msg.sender, a, model, pool);
    }

    /// @inheritdoc IProviderRegistry
    function joinCouncilReplacing(bytes32 model, address member) external {
        Account storage a = _checkJoin(msg.sender, model);
        CouncilPool.Pool storage pool = _pools[model];
        if (!pool.isFull()) revert ProviderRegistryCouncilPoolNotFull(model, pool.members);
        if (!pool.isMember(member)) revert ProviderRegistryNotInCouncil(member, model);
        Account storage m = _accounts[member];
        uint256 memberWeight = m.staked;
        if (memberWeight >= a.staked) {
            revert ProviderRegistryCouncilReplaceNotLighter(model, member, memberWeight, a.staked);
        }
        _leaveCouncil(member, m, model);
        emit CouncilMemberReplaced(model, member, msg.sender);
        _joinCouncil(msg.sender, a, model, pool);
    }

    /// @inheritdoc IProviderRegistry
    function leaveCouncil(bytes32 model) external {
        if (!_pools[model].isMember(msg.sender)) revert ProviderRegistryNotInCouncil(msg.sender, model);
        _leaveCouncil(msg.sender, _accounts[msg.sender], model);
    }

    /// @inheritdoc IProviderRegistry
    function drawCouncil(bytes32 model, uint256 atBlock, bytes32 seed, uint256 seats, address[] calldata exclude)
        external
        view
        returns (address[] memory members)
    {
        return _draw(model, atBlock, seed, seats, exclude, false, 0);
    }

    /// @inheritdoc IProviderRegistry
    function drawBackedCouncil(
        bytes32 model,
        uint256 atBlock,
        bytes32 seed,
        uint256 seats,
        address[] calldata exclude,
        uint256 minFreeStake
    ) external view returns (address[] memory members) {
        return _draw(model, atBlock, seed, seats, exclude, true, minFreeStake);
    }

    /// @inheritdoc IProviderRegistry
    function drawAndLockCouncil(
        bytes32 model,
        uint256 atBlock,
        bytes32 seed,
        uint256 seats,
        address[] calldata exclude,
        uint256 collateral
    ) external onlyRole(MARKET_ROLE) returns (address[] memory members) {
        if (collateral == 0) revert ProviderRegistryZeroAmount();
        members = _draw(model, atBlock, seed, seats, exclude, true, collateral);
        if (members.length < seats) return members;
        for (uint256 i; i < seats; ++i) {
            Account storage a = _accounts[members[i]];
            uint256 locked = a.locked + collateral; // <= staked: drawn only with that much free stake
            a.locked = uint96(locked);
            emit CollateralLocked(members[i], msg.sender, collateral, locked);
        }
    }

    // ------------------------------------------------------------------ admin

    /// @inheritdoc IProviderRegistry
    function setUnbondingPeriod(uint64 period) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _checkUnbondingPeriod(period);
        uint64 previous = _unbondingPeriod;
        _unbondingPeriod = period;
        emit UnbondingPeriodUpdated(previous, period);
    }

    // ------------------------------------------------------------------ views

    /// @inheritdoc IProviderRegistry
    function token() external view returns (IERC20) {
        return _token;
    }

    /// @inheritdoc IProviderRegistry
    function unbondingPeriod() external view returns (uint64) {
        return _unbondingPeriod;
    }

    /// @inheritdoc IProviderRegistry
    function isRegistered(address provider) external view returns (bool) {
        return _accounts[provider].registered;
    }

    /// @inheritdoc IProviderRegistry
    function providerOf(address provider) external view returns (Provider memory) {
        Account storage a = _accounts[provider];
        return Provider({
            endpoint: a.endpoint,
            infoHash: a.infoHash,
            registered: a.registered,
            registeredAt: a.registeredAt
        });
    }

    /// @inheritdoc IProviderRegistry
    function stakeOf(address provider) external view returns (StakeInfo memory) {
        Account storage a = _accounts[provider];
        return StakeInfo({staked: a.staked, locked: a.locked, unbonding: a.unbonding, unbondingEnd: a.unbondingEnd});
    }

    /// @inheritdoc IProviderRegistry
    function freeStakeOf(address provider) external view returns (uint256) {
        Account storage a = _accounts[provider];
        return a.staked - a.locked;
    }

    /// @inheritdoc IProviderRegistry
    function totalStaked() external view returns (uint256) {
        return _totalStaked;
    }

    /// @inheritdoc IProviderRegistry
    function totalUnbonding() external view returns (uint256) {
        return _totalUnbonding;
    }

    /// @inheritdoc IProviderRegistry
    function councilModelsOf(address provider) external view returns (bytes32[] memory models) {
        Account storage a = _accounts[provider];
        uint256 n = a.councilCount;
        models = new bytes32[](n);
        for (uint256 k; k < n; ++k) {
            models[k] = a.councilModels[k];
        }
    }

    /// @inheritdoc IProviderRegistry
    function councilPositionOf(bytes32 model, address provider) external view returns (bool member, uint256 position) {
        CouncilPool.Pool storage pool = _pools[model];
        if (!pool.isMember(provider)) return (false, 0);
        return (true, pool.currentPosition(provider));
    }

    /// @inheritdoc IProviderRegistry
    function councilMemberAt(bytes32 model, uint256 position, uint256 blockNumber) external view returns (address) {
        _checkPosition(position);
        return _pools[model].ownerAt(position, SafeCast.toUint48(blockNumber));
    }

    /// @inheritdoc IProviderRegistry
    function councilWeightAt(bytes32 model, uint256 position, uint256 blockNumber) external view returns (uint256) {
        _checkPosition(position);
        return _pools[model].weightAt(position, SafeCast.toUint48(blockNumber));
    }

    /// @inheritdoc IProviderRegistry
    function councilTotalAt(bytes32 model, uint256 blockNumber) external view returns (uint256) {
        return _pools[model].totalAt(SafeCast.toUint48(blockNumber));
    }

    /// @inheritdoc IProviderRegistry
    function poolSize(bytes32 model) external view returns (uint256) {
        return _pools[model].members;
    }

    // ------------------------------------------------------------------ internal

    /// @dev Releases `amount` (> 0) of `provider`'s locked collateral (unlock's body, for
    ///      lockRegistered; unlock keeps its own copy so its gas does not move).
    function _unlock(address provider, uint256 amount) private {
        Account storage a = _accounts[provider];
        uint256 locked = a.locked;
        if (amount > locked) revert ProviderRegistryInsufficientLocked(provider, amount, locked);
        locked -= amount;
        a.locked = uint96(locked);
        emit CollateralUnlocked(provider, msg.sender, amount, locked);
    }

    /// @dev Credits `amount` to `provider`'s active stake, then pulls it from `provider`.
    function _stake(address provider, uint256 amount) private {
        if (amount == 0) revert ProviderRegistryZeroAmount();
        Account storage a = _accounts[provider];
        uint256 staked = a.staked + amount;
        a.staked = SafeCast.toUint96(staked); // so amount < 2^96 and the uint128 add is exact

        _totalStaked += uint128(amount);
        emit Staked(provider, amount, staked);
        _syncCouncil(provider, a, staked);
        _token.safeTransferFrom(provider, address(this), amount);
    }

    /// @dev The checks every join shares; returns the caller's account.
    function _checkJoin(address provider, bytes32 model) private view returns (Account storage a) {
        a = _accounts[provider];
        if (!a.registered) revert ProviderRegistryNotRegistered(provider);
        if (model == bytes32(0)) revert ProviderRegistryInvalidCouncilModel(model);
        if (_pools[model].isMember(provider)) revert ProviderRegistryAlreadyInCouncil(provider, model);
        if (a.councilCount == MAX_COUNCIL_MODELS) {
            revert ProviderRegistryTooManyCouncilModels(provider, MAX_COUNCIL_MODELS);
        }
    }

    /// @dev Adds `provider` to `model`'s pool (not full) at its active stake.
    function _joinCouncil(address provider, Account storage a, bytes32 model, CouncilPool.Pool storage pool) private {
        uint256 weight = a.staked;
        uint256 position = pool.join(provider, weight);
        uint8 n = a.councilCount;
        a.councilModels[n] = model;
        a.councilCount = n + 1;
        emit CouncilJoined(model, provider, position, weight);
    }

    /// @dev Removes `provider` (a member) from `model`'s pool and from its list of models.
    function _leaveCouncil(address provider, Account storage a, bytes32 model) private {
        uint256 position = _pools[model].leave(provider);
        uint256 last = a.councilCount - 1;
        for (uint256 k; k < last; ++k) {
            if (a.councilModels[k] == model) {
                a.councilModels[k] = a.councilModels[last];
                break;
            }
        }
        delete a.councilModels[last];
        a.councilCount = uint8(last);
        emit CouncilLeft(model, provider, position);
    }

    /// @dev After `provider`'s active stake became `staked`: its weight in each of its pools.
    function _syncCouncil(address provider, Account storage a, uint256 staked) private {
        uint256 n = a.councilCount;
        for (uint256 k; k < n; ++k) {
            bytes32 model = a.councilModels[k];
            if (_pools[model].setWeight(provider, staked)) emit CouncilWeightUpdated(model, provider, staked);
        }
    }

    /// @dev The draw behind drawCouncil (backed = false) and drawBackedCouncil (backed = true).
    ///      Each candidate comes out of the sampler once and leaves the draw (without
    ///      replacement): an excluded one is found at most once per address, a skipped one
    ///      (backed: no longer a member, or free stake < minFreeStake) at most MAX_COUNCIL_SKIPS
    ///      times in all, so at most seats + exclude.length + MAX_COUNCIL_SKIPS draws.
    function _draw(
        bytes32 model,
        uint256 atBlock,
        bytes32 seed,
        uint256 seats,
        address[] calldata exclude,
        bool backed,
        uint256 minFreeStake
    ) private view returns (address[] memory members) {
        if (atBlock >= block.number) revert ProviderRegistryCouncilBlockNotPast(atBlock, block.number);
        if (seats == 0 || seats > MAX_COUNCIL_SEATS) revert ProviderRegistryInvalidCouncilSeats(seats, MAX_COUNCIL_SEATS);
        uint256 excluded = exclude.length;
        if (excluded > MAX_COUNCIL_EXCLUDED) {
            revert ProviderRegistryCouncilTooManyExcluded(excluded, MAX_COUNCIL_EXCLUDED);
        }
        CouncilPool.Pool storage pool = _pools[model];
        uint256 skipsLeft = backed ? MAX_COUNCIL_SKIPS : 0;
        CouncilPool.Sampler memory s = pool.sampler(uint48(atBlock), seed, seats + excluded + skipsLeft);
        members = new address[](seats);
        uint256 n;
        while (n < seats) {
            (bool found, address candidate) = pool.next(s);
            if (!found) break;
            if (_contains(exclude, candidate)) continue;
            if (backed) {
                Account storage c = _accounts[candidate];
                if (!pool.isMember(candidate) || c.staked - c.locked < minFreeStake) {
                    if (skipsLeft == 0) break;
                    --skipsLeft;
                    continue;
                }
            }
            members[n++] = candidate;
        }
        assembly ("memory-safe") {
            mstore(members, n)
        }
    }

    function _contains(address[] calldata list, address account) private pure returns (bool) {
        for (uint256 k; k < list.length; ++k) {
            if (list[k] == account) return true;
        }
        return false;
    }

    /// @dev Reverts unless position < POOL_CAPACITY.
    function _checkPosition(uint256 position) private pure {
        if (position >= POOL_CAPACITY) revert ProviderRegistryCouncilPositionOutOfRange(position, POOL_CAPACITY);
    }

    /// @dev Reverts unless 1 <= length <= MAX_ENDPOINT_LENGTH.
    function _checkEndpoint(string calldata endpoint) private pure {
        uint256 length = bytes(endpoint).length;
        if (length == 0 || length > MAX_ENDPOINT_LENGTH) {
            revert ProviderRegistryInvalidEndpoint(length, MAX_ENDPOINT_LENGTH);
        }
    }

    /// @dev Reverts if `period` exceeds MAX_UNBONDING_PERIOD (so `now + period` fits for ages).
    function _checkUnbondingPeriod(uint64 period) private pure {
        if (period > MAX_UNBONDING_PERIOD) revert ProviderRegistryUnbondingPeriodTooLong(period, MAX_UNBONDING_PERIOD);
    }
}
