// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

/// @title IProviderRegistry
/// @notice Registry of GPU providers and of the oGPU stake that backs them.
///
/// Stake model, per account (a provider, or any account that stakes):
///   - `staked`: active stake, including the locked part, excluding what is unbonding.
///   - `locked`: collateral locked by the market contracts (bids, council seats, stream
///     subscriptions); always <= `staked`. Free stake = staked - locked.
///   - one unbonding bucket (`unbonding`, `unbondingEnd`): stake on its way out. A new
///     unstake request adds to the bucket and RESTARTS its clock (end = now + unbondingPeriod)
///     for the whole bucket. `claim` pays the whole bucket once the end has passed;
///     `cancelUnstake` moves it back into active stake.
///
/// Only accounts holding MARKET_ROLE (the market contracts, granted by the admin) may lock,
/// unlock and slash. The registry keeps one aggregate `locked` figure per provider: each
/// market must track its own locks and only release or slash what it locked itself.
///
/// The token must be a plain ERC-20 (no fee on transfer, no rebasing).
///
/// Council pools: per model (bytes32 = sha256 of its GGUF file, as the markets name models), a
/// registered provider may join the model's pool to accept council duty (at most
/// MAX_COUNCIL_MODELS models per provider, POOL_CAPACITY members per pool). A member's weight is
/// its active stake (`staked`), kept in sync on every stake, unstake request, cancel and slash;
/// deregistering leaves every pool. The pool is recorded per block (checkpoints), so a market
/// can draw a council weighted by stake AS OF A PAST BLOCK (`drawCouncil`): a block fixed before
/// the draw's seed is known, so no stake move made after seeing the seed changes the draw.
interface IProviderRegistry {
    // ---------------------------------------------------------------- types

    /// @notice A provider's registration.
    /// @param endpoint Base URL of the provider's HTTP API (1..256 bytes).
    /// @param infoHash Hash of the provider's off-chain info document (hardware, models).
    /// @param registered Whether the account is currently registered.
    /// @param registeredAt Timestamp of the (latest) registration; 0 when not registered.
    struct Provider {
        string endpoint;
        bytes32 infoHash;
        bool registered;
        uint64 registeredAt;
    }

    /// @notice An account's stake.
    /// @param staked Active stake, including `locked`, excluding `unbonding`.
    /// @param locked Collateral locked by the markets; always <= staked.
    /// @param unbonding Stake in the unbonding bucket.
    /// @param unbondingEnd When the bucket becomes claimable; 0 when the bucket is empty.
    struct StakeInfo {
        uint256 staked;
        uint256 locked;
        uint256 unbonding;
        uint64 unbondingEnd;
    }

    // ---------------------------------------------------------------- errors

    /// @notice The constructor got the zero address as token.
    /// @param token The rejected token address.
    error ProviderRegistryInvalidToken(address token);

    /// @notice The constructor got the zero address as admin.
    /// @param admin The rejected admin address.
    error ProviderRegistryInvalidAdmin(address admin);

    /// @notice The unbonding period exceeds MAX_UNBONDING_PERIOD.
    /// @param period The rejected period, in seconds.
    /// @param maxPeriod The largest period allowed, in seconds.
    error ProviderRegistryUnbondingPeriodTooLong(uint64 period, uint64 maxPeriod);

    /// @notice `register` was called by an account that is already registered.
    /// @param provider The caller.
    error ProviderRegistryAlreadyRegistered(address provider);

    /// @notice The call needs a registered provider and the caller is not one.
    /// @param provider The caller.
    error ProviderRegistryNotRegistered(address provider);

    /// @notice The endpoint is empty or longer than MAX_ENDPOINT_LENGTH bytes.
    /// @param length The endpoint's length in bytes.
    /// @param maxLength The largest length allowed, in bytes.
    error ProviderRegistryInvalidEndpoint(uint256 length, uint256 maxLength);

    /// @notice `deregister` was called while collateral is still locked.
    /// @param provider The caller.
    /// @param locked The collateral still locked.
    error ProviderRegistryCollateralLocked(address provider, uint256 locked);

    /// @notice An amount of zero was given where a positive amount is required.
    error ProviderRegistryZeroAmount();

    /// @notice The provider's free stake (staked - locked) is smaller than requested.
    /// @param provider The provider.
    /// @param requested The amount asked for.
    /// @param available The free stake available.
    error ProviderRegistryInsufficientFreeStake(address provider, uint256 requested, uint256 available);

    /// @notice `unlock` asked for more than the provider has locked.
    /// @param provider The provider.
    /// @param requested The amount asked for.
    /// @param locked The collateral currently locked.
    error ProviderRegistryInsufficientLocked(address provider, uint256 requested, uint256 locked);

    /// @notice `claim` was called with an empty unbonding bucket.
    /// @param provider The caller.
    error ProviderRegistryNothingToClaim(address provider);

    /// @notice `claim` was called before the unbonding bucket's end.
    /// @param provider The caller.
    /// @param end When the bucket becomes claimable.
    /// @param nowTs The current block timestamp.
    error ProviderRegistryUnbondingNotOver(address provider, uint64 end, uint64 nowTs);

    /// @notice `cancelUnstake` was called with an empty unbonding bucket.
    /// @param provider The caller.
    error ProviderRegistryNothingToCancel(address provider);

    /// @notice The slash recipient is the zero address or the registry itself.
    /// @param recipient The rejected recipient.
    error ProviderRegistryInvalidRecipient(address recipient);

    /// @notice The council model is the zero hash.
    /// @param model The rejected model.
    error ProviderRegistryInvalidCouncilModel(bytes32 model);

    /// @notice The provider is already in the model's council pool.
    /// @param provider The provider.
    /// @param model The model.
    error ProviderRegistryAlreadyInCouncil(address provider, bytes32 model);

    /// @notice The provider is not in the model's council pool.
    /// @param provider The provider.
    /// @param model The model.
    error ProviderRegistryNotInCouncil(address provider, bytes32 model);

    /// @notice The provider already serves MAX_COUNCIL_MODELS council pools.
    /// @param provider The provider.
    /// @param maxModels The most pools per provider (4).
    error ProviderRegistryTooManyCouncilModels(address provider, uint256 maxModels);

    /// @notice The model's council pool has POOL_CAPACITY members: use joinCouncilReplacing.
    /// @param model The model.
    /// @param capacity The pool's capacity (256).
    error ProviderRegistryCouncilPoolFull(bytes32 model, uint256 capacity);

    /// @notice joinCouncilReplacing was called while the pool still has free positions.
    /// @param model The model.
    /// @param members The pool's current member count.
    error ProviderRegistryCouncilPoolNotFull(bytes32 model, uint256 members);

    /// @notice joinCouncilReplacing named a member whose stake is not smaller than the caller's.
    /// @param model The model.
    /// @param member The member named.
    /// @param memberStake Its active stake.
    /// @param stake The caller's active stake.
    error ProviderRegistryCouncilReplaceNotLighter(bytes32 model, address member, uint256 memberStake, uint256 stake);

    /// @notice A draw was asked as of a block that is not in the past (the current one can still change).
    /// @param atBlock The block asked for.
    /// @param currentBlock The current block number.
    error ProviderRegistryCouncilBlockNotPast(uint256 atBlock, uint256 currentBlock);

    /// @notice A draw asked for no seats or more than MAX_COUNCIL_SEATS.
    /// @param seats The seats asked for.
    /// @param maxSeats The most seats per draw (16).
    error ProviderRegistryInvalidCouncilSeats(uint256 seats, uint256 maxSeats);

    /// @notice A draw named more than MAX_COUNCIL_EXCLUDED accounts to exclude.
    /// @param count The accounts named.
    /// @param maxExcluded The most per draw (8).
    error ProviderRegistryCouncilTooManyExcluded(uint256 count, uint256 maxExcluded);

    /// @notice A pool position at or past POOL_CAPACITY.
    /// @param position The position asked for.
    /// @param capacity The pool's capacity (256).
    error ProviderRegistryCouncilPositionOutOfRange(uint256 position, uint256 capacity);

    // ---------------------------------------------------------------- events

    /// @notice A provider registered.
    /// @param provider The provider.
    /// @param endpoint Base URL of its HTTP API.
    /// @param infoHash Hash of its off-chain info document.
    event ProviderRegistered(address indexed provider, string endpoint, bytes32 infoHash);

    /// @notice A provider changed its endpoint and/or info hash.
    /// @param provider The provider.
    /// @param endpoint The new endpoint.
    /// @param infoHash The new info hash.
    event ProviderUpdated(address indexed provider, string endpoint, bytes32 infoHash);

    /// @notice A provider deregistered. Its stake is untouched and stays withdrawable.
    /// @param provider The provider.
    event ProviderDeregistered(address indexed provider);

    /// @notice Tokens were staked.
    /// @param provider The account the stake is credited to.
    /// @param amount The amount staked.
    /// @param totalStaked The account's active stake afterwards.
    event Staked(address indexed provider, uint256 amount, uint256 totalStaked);

    /// @notice Free stake moved into the unbonding bucket, whose clock restarted.
    /// @param provider The account.
    /// @param amount The amount moved.
    /// @param totalUnbonding The bucket's content afterwards.
    /// @param unbondingEnd When the whole bucket becomes claimable.
    event UnstakeRequested(address indexed provider, uint256 amount, uint256 totalUnbonding, uint64 unbondingEnd);

    /// @notice The unbonding bucket moved back into active stake.
    /// @param provider The account.
    /// @param amount The amount moved back.
    /// @param totalStaked The account's active stake afterwards.
    event UnstakeCancelled(address indexed provider, uint256 amount, uint256 totalStaked);

    /// @notice The unbonding bucket was paid out.
    /// @param provider The account, which received the tokens.
    /// @param amount The amount paid.
    event Claimed(address indexed provider, uint256 amount);

    /// @notice A market locked collateral out of a provider's free stake.
    /// @param provider The provider.
    /// @param market The market that locked it.
    /// @param amount The amount locked.
    /// @param totalLocked The provider's locked collateral afterwards.
    event CollateralLocked(address indexed provider, address indexed market, uint256 amount, uint256 totalLocked);

    /// @notice A market released locked collateral back to free stake.
    /// @param provider The provider.
    /// @param market The market that released it.
    /// @param amount The amount released.
    /// @param totalLocked The provider's locked collateral afterwards.
    event CollateralUnlocked(address indexed provider, address indexed market, uint256 amount, uint256 totalLocked);

    /// @notice A market slashed locked collateral: it left the provider's stake and went to the recipient.
    /// @param provider The provider.
    /// @param market The market that slashed.
    /// @param recipient Who received the tokens.
    /// @param amount The amount slashed.
    event Slashed(address indexed provider, address indexed market, address indexed recipient, uint256 amount);

    /// @notice The unbonding period was set: by the constructor (previous = 0) or by the admin.
    ///         Buckets already unbonding keep their end.
    /// @param previous The old period, in seconds.
    /// @param current The new period, in seconds.
    event UnbondingPeriodUpdated(uint64 previous, uint64 current);

    /// @notice A provider joined a model's council pool.
    /// @param model The model.
    /// @param provider The provider.
    /// @param position Its position in the pool (0..255; positions are reused after a leave).
    /// @param weight Its weight: its active stake.
    event CouncilJoined(bytes32 indexed model, address indexed provider, uint256 position, uint256 weight);

    /// @notice A provider left a model's council pool (by itself, by deregistering, or replaced).
    /// @param model The model.
    /// @param provider The provider.
    /// @param position The position it held, now free.
    event CouncilLeft(bytes32 indexed model, address indexed provider, uint256 position);

    /// @notice A full pool's member was replaced by a provider with more stake (joinCouncilReplacing).
    ///         Emitted between the member's CouncilLeft and the newcomer's CouncilJoined.
    /// @param model The model.
    /// @param member The member that left.
    /// @param replacement The provider that took its place.
    event CouncilMemberReplaced(bytes32 indexed model, address indexed member, address indexed replacement);

    /// @notice A member's weight in a pool changed with its active stake.
    /// @param model The model.
    /// @param provider The member.
    /// @param weight Its new weight (= its active stake).
    event CouncilWeightUpdated(bytes32 indexed model, address indexed provider, uint256 weight);

    // ---------------------------------------------------------------- registration

    /// @notice Registers the caller as a provider. Staking may come before or after.
    /// @dev Reverts ProviderRegistryAlreadyRegistered, ProviderRegistryInvalidEndpoint.
    /// @param endpoint Base URL of the provider's HTTP API, 1..256 bytes.
    /// @param infoHash Hash of the provider's off-chain info document.
    function register(string calldata endpoint, bytes32 infoHash) external;

    /// @notice Changes the caller's endpoint and info hash.
    /// @dev Reverts ProviderRegistryNotRegistered, ProviderRegistryInvalidEndpoint.
    /// @param endpoint The new endpoint, 1..256 bytes.
    /// @param infoHash The new info hash.
    function updateProvider(string calldata endpoint, bytes32 infoHash) external;

    /// @notice Deregisters the caller. Only with no collateral locked; the stake stays and
    ///         can still be unstaked and claimed.
    /// @dev Reverts ProviderRegistryNotRegistered, ProviderRegistryCollateralLocked.
    function deregister() external;

    // ---------------------------------------------------------------- stake

    /// @notice Stakes `amount` tokens from the caller (needs a prior ERC-20 approval).
    /// @dev Reverts ProviderRegistryZeroAmount; SafeCastOverflowedUintDowncast past 2^96-1.
    /// @param amount The amount to stake.
    function stake(uint256 amount) external;

    /// @notice Approves with an ERC-2612 permit and stakes in one transaction. A permit that
    ///         fails (for instance because someone front-ran it) is ignored: the transfer
    ///         then succeeds if the allowance is already in place.
    /// @param amount The amount to stake (and the permit's value).
    /// @param deadline The permit's deadline.
    /// @param v The permit signature's v.
    /// @param r The permit signature's r.
    /// @param s The permit signature's s.
    function stakeWithPermit(uint256 amount, uint256 deadline, uint8 v, bytes32 r, bytes32 s) external;

    /// @notice Moves `amount` of free stake into the caller's unbonding bucket. The bucket's end
    ///         becomes now + unbondingPeriod, for the whole bucket (earlier requests included).
    /// @dev Reverts ProviderRegistryZeroAmount, ProviderRegistryInsufficientFreeStake.
    /// @param amount The amount to unbond.
    function requestUnstake(uint256 amount) external;

    /// @notice Moves the caller's whole unbonding bucket back into active stake.
    /// @dev Reverts ProviderRegistryNothingToCancel.
    function cancelUnstake() external;

    /// @notice Pays the caller's whole unbonding bucket once its end has passed.
    /// @dev Reverts ProviderRegistryNothingToClaim, ProviderRegistryUnbondingNotOver.
    function claim() external;

    // ---------------------------------------------------------------- trust lock (MARKET_ROLE)

    /// @notice Locks `amount` of the provider's free stake as collateral. Only MARKET_ROLE.
    /// @dev Reverts ProviderRegistryZeroAmount, ProviderRegistryInsufficientFreeStake.
    /// @param provider The provider.
    /// @param amount The amount to lock.
    function lock(address provider, uint256 amount) external;

    /// @notice Releases `amount` of the provider's locked collateral. Only MARKET_ROLE.
    /// @dev Reverts ProviderRegistryZeroAmount, ProviderRegistryInsufficientLocked.
    /// @param provider The provider.
    /// @param amount The amount to release.
    function unlock(address provider, uint256 amount) external;

    /// @notice A market's bid in one call: releases `amount` of `released`'s locked collateral
    ///         (an evicted bidder; address(0) for none), then locks `amount` of `provider`'s free
    ///         stake, which must be a registered provider. Only MARKET_ROLE. Emits
    ///         CollateralUnlocked (if `released` is set), then CollateralLocked.
    /// @dev One call instead of isRegistered + unlock + lock: the bid path's gas (<= 80k). Reverts
    ///      ProviderRegistryZeroAmount, ProviderRegistryInsufficientLocked (of `released`),
    ///      ProviderRegistryNotRegistered, ProviderRegistryInsufficientFreeStake.
    /// @param provider The bidder.
    /// @param amount The collateral to lock (and to release from `released`).
    /// @param released The bidder whose collateral is released, or address(0).
    function lockRegistered(address provider, uint256 amount, address released) external;

    /// @notice Slashes up to `amount` of the provider's locked collateral: it leaves both
    ///         `locked` and `staked` and is transferred to `recipient`. Only MARKET_ROLE.
    ///         If less than `amount` is locked, everything locked is slashed.
    /// @dev Reverts ProviderRegistryZeroAmount, ProviderRegistryInvalidRecipient. Emits
    ///      nothing and transfers nothing when nothing is locked.
    /// @param provider The provider.
    /// @param amount The most to slash.
    /// @param recipient Who receives the slashed tokens (not zero, not the registry).
    /// @return slashed The amount actually slashed.
    function slash(address provider, uint256 amount, address recipient) external returns (uint256 slashed);

    // ---------------------------------------------------------------- council pools

    /// @notice Joins `model`'s council pool at the caller's active stake (its weight follows the
    ///         stake from then on). The caller accepts council duty for the model: a market may
    ///         seat it on a council drawn from the pool and lock collateral from its free stake.
    /// @dev Reverts ProviderRegistryNotRegistered, ProviderRegistryInvalidCouncilModel,
    ///      ProviderRegistryAlreadyInCouncil, ProviderRegistryTooManyCouncilModels,
    ///      ProviderRegistryCouncilPoolFull.
    /// @param model The model (sha256 of its GGUF file).
    function joinCouncil(bytes32 model) external;

    /// @notice Joins a FULL pool in place of `member`, whose active stake must be smaller than
    ///         the caller's: tiny stakes cannot fill a pool to keep others out.
    /// @dev Reverts as joinCouncil (but ProviderRegistryCouncilPoolFull), and
    ///      ProviderRegistryCouncilPoolNotFull, ProviderRegistryNotInCouncil (member),
    ///      ProviderRegistryCouncilReplaceNotLighter.
    /// @param model The model.
    /// @param member The member to replace.
    function joinCouncilReplacing(bytes32 model, address member) external;

    /// @notice Leaves `model`'s council pool. Councils drawn as of a block before this one may
    ///         still name the caller (a market then skips it if it cannot back the seat).
    /// @dev Reverts ProviderRegistryNotInCouncil.
    /// @param model The model.
    function leaveCouncil(bytes32 model) external;

    /// @notice Draws up to `seats` distinct members of `model`'s pool AS IT STOOD AT THE END OF
    ///         block `atBlock`, without replacement, each draw weighted by the weights then,
    ///         never one in `exclude`. An excluded member that is drawn is removed from the draw
    ///         and the draw repeated over the rest, so exclusion biases nothing. Draw k uses
    ///         keccak256(abi.encode(seed, k)). Returns fewer members when the pool runs out.
    /// @dev Reverts ProviderRegistryCouncilBlockNotPast, ProviderRegistryInvalidCouncilSeats,
    ///      ProviderRegistryCouncilTooManyExcluded. At most seats + exclude.length draws.
    /// @param model The model.
    /// @param atBlock The block whose pool is drawn from (< the current block).
    /// @param seed The randomness: it must be unknown when atBlock ends.
    /// @param seats The members wanted, 1..MAX_COUNCIL_SEATS.
    /// @param exclude Accounts never drawn (executor, accused, disputer), at most MAX_COUNCIL_EXCLUDED.
    /// @return members The members drawn, in draw order.
    function drawCouncil(bytes32 model, uint256 atBlock, bytes32 seed, uint256 seats, address[] calldata exclude)
        external
        view
        returns (address[] memory members);

    /// @notice drawCouncil, but a drawn member is also skipped (and the draw repeated over the
    ///         rest) when, NOW, it is no longer in the pool or its free stake is below
    ///         `minFreeStake` (it could not back a seat). Only the member's own actions make it
    ///         skipped, so skipping never raises anyone else's share. At most MAX_COUNCIL_SKIPS
    ///         skips: past them it returns the members found so far.
    /// @dev Reverts as drawCouncil. At most seats + exclude.length + MAX_COUNCIL_SKIPS draws.
    /// @param model The model.
    /// @param atBlock The block whose pool is drawn from (< the current block).
    /// @param seed The randomness.
    /// @param seats The members wanted, 1..MAX_COUNCIL_SEATS.
    /// @param exclude Accounts never drawn, at most MAX_COUNCIL_EXCLUDED.
    /// @param minFreeStake The free stake a member needs now to be seated.
    /// @return members The members drawn, in draw order.
    function drawBackedCouncil(
        bytes32 model,
        uint256 atBlock,
        bytes32 seed,
        uint256 seats,
        address[] calldata exclude,
        uint256 minFreeStake
    ) external view returns (address[] memory members);

    /// @notice drawBackedCouncil with `collateral` as the free stake each member needs, then, when
    ///         a full council of `seats` was drawn, locks `collateral` out of each member's free
    ///         stake for the calling market (CollateralLocked each); when fewer were found, locks
    ///         nothing and returns them. Only MARKET_ROLE.
    /// @dev Reverts as drawCouncil; ProviderRegistryZeroAmount when `collateral` is 0.
    /// @param model The model.
    /// @param atBlock The block whose pool is drawn from (< the current block).
    /// @param seed The randomness.
    /// @param seats The members wanted, 1..MAX_COUNCIL_SEATS.
    /// @param exclude Accounts never drawn, at most MAX_COUNCIL_EXCLUDED.
    /// @param collateral Locked per seat.
    /// @return members The members drawn, in draw order (locked only when all `seats` were drawn).
    function drawAndLockCouncil(
        bytes32 model,
        uint256 atBlock,
        bytes32 seed,
        uint256 seats,
        address[] calldata exclude,
        uint256 collateral
    ) external returns (address[] memory members);

    // ---------------------------------------------------------------- admin

    /// @notice Sets the unbonding period for future unstake requests. Only DEFAULT_ADMIN_ROLE.
    /// @dev Reverts ProviderRegistryUnbondingPeriodTooLong.
    /// @param period The new period, in seconds (<= MAX_UNBONDING_PERIOD).
    function setUnbondingPeriod(uint64 period) external;

    // ---------------------------------------------------------------- views

    /// @notice Role of the market contracts: keccak256("MARKET_ROLE").
    /// @return The role identifier.
    function MARKET_ROLE() external view returns (bytes32);

    /// @notice The longest unbonding period the admin may set: 365 days.
    /// @return The period, in seconds.
    function MAX_UNBONDING_PERIOD() external view returns (uint64);

    /// @notice The longest endpoint accepted: 256 bytes.
    /// @return The length, in bytes.
    function MAX_ENDPOINT_LENGTH() external view returns (uint256);

    /// @notice Members per council pool: 256.
    /// @return The capacity.
    function POOL_CAPACITY() external view returns (uint256);

    /// @notice Council pools one provider may join: 4.
    /// @return The number of models.
    function MAX_COUNCIL_MODELS() external view returns (uint256);

    /// @notice Seats per draw: 16.
    /// @return The number of seats.
    function MAX_COUNCIL_SEATS() external view returns (uint256);

    /// @notice Accounts one draw may exclude: 8.
    /// @return The number of accounts.
    function MAX_COUNCIL_EXCLUDED() external view returns (uint256);

    /// @notice Members drawBackedCouncil skips at most before it returns what it found: 16.
    /// @return The number of skips.
    function MAX_COUNCIL_SKIPS() external view returns (uint256);

    /// @notice The staking token.
    /// @return The token.
    function token() external view returns (IERC20);

    /// @notice The current unbonding period.
    /// @return The period, in seconds.
    function unbondingPeriod() external view returns (uint64);

    /// @notice Whether `provider` is registered.
    /// @param provider The account.
    /// @return True if registered.
    function isRegistered(address provider) external view returns (bool);

    /// @notice The registration of `provider` (all zero when not registered).
    /// @param provider The account.
    /// @return The registration.
    function providerOf(address provider) external view returns (Provider memory);

    /// @notice The stake of `provider`.
    /// @param provider The account.
    /// @return The stake.
    function stakeOf(address provider) external view returns (StakeInfo memory);

    /// @notice The free stake of `provider`: staked - locked.
    /// @param provider The account.
    /// @return The free stake.
    function freeStakeOf(address provider) external view returns (uint256);

    /// @notice Sum of all accounts' active stake (locked included, unbonding excluded).
    /// @return The total.
    function totalStaked() external view returns (uint256);

    /// @notice Sum of all accounts' unbonding buckets.
    /// @return The total.
    function totalUnbonding() external view returns (uint256);

    /// @notice The models whose council pools `provider` is in.
    /// @param provider The account.
    /// @return models The models (at most MAX_COUNCIL_MODELS), in no particular order.
    function councilModelsOf(address provider) external view returns (bytes32[] memory models);

    /// @notice Whether `provider` is in `model`'s pool now, and at which position.
    /// @param model The model.
    /// @param provider The account.
    /// @return member True if it is a member.
    /// @return position Its position (0 when not a member).
    function councilPositionOf(bytes32 model, address provider) external view returns (bool member, uint256 position);

    /// @notice The member at `position` of `model`'s pool at the end of block `blockNumber`
    ///         (the current state for the current or a future block); 0 when free.
    /// @dev Reverts ProviderRegistryCouncilPositionOutOfRange.
    /// @param model The model.
    /// @param position The position, < POOL_CAPACITY.
    /// @param blockNumber The block.
    /// @return The member.
    function councilMemberAt(bytes32 model, uint256 position, uint256 blockNumber) external view returns (address);

    /// @notice The weight at `position` of `model`'s pool at the end of block `blockNumber`.
    /// @dev Reverts ProviderRegistryCouncilPositionOutOfRange.
    /// @param model The model.
    /// @param position The position, < POOL_CAPACITY.
    /// @param blockNumber The block.
    /// @return The weight (0 for a free position).
    function councilWeightAt(bytes32 model, uint256 position, uint256 blockNumber) external view returns (uint256);

    /// @notice The total weight of `model`'s pool at the end of block `blockNumber`.
    /// @param model The model.
    /// @param blockNumber The block.
    /// @return The total.
    function councilTotalAt(bytes32 model, uint256 blockNumber) external view returns (uint256);

    /// @notice The number of members in `model`'s pool now.
    /// @param model The model.
    /// @return The member count.
    function poolSize(bytes32 model) external view returns (uint256);
}
