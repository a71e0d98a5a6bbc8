// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC5267} from "@openzeppelin/contracts/interfaces/IERC5267.sol";

import {IProviderRegistry} from "./IProviderRegistry.sol";
import {IVerdictRound} from "./IVerdictRound.sol";

/// @title IStreamMarket
/// @notice The streaming (online inference) market. A client opens a stream for one model with
///         prices per 1,000 tokens and a deposit; registered providers subscribe at any time,
///         locking collateral in the {IProviderRegistry}; the client pays them off-chain with
///         cumulative EIP-712 vouchers that each provider redeems on chain whenever it likes
///         (no gas per request). Anyone can dispute a response the provider signed, with a bond:
///         the other subscribers judge it with a commit-reveal verdict round; an invalid response
///         gets the provider slashed and removed, a valid one wins it the disputer's bond.
///
/// Lifecycle of a stream: Active -> (close) Closing -> (finalizeClose, after the notice) Closed.
/// Lifecycle of a subscription: (subscribe) Active -> (requestUnsubscribe) Unsubscribing ->
///   (finishUnsubscribe, after the notice) None; a stream's close releases every subscription,
///   and an invalid verdict removes the accused one for good (Removed).
///
/// Off-chain messages are EIP-712 typed data in the domain
/// {name: "ogpu", version: "1", chainId, verifyingContract: this market}:
///   - Voucher(uint256 streamId,address provider,uint256 cumulativeAmount), signed by the
///     stream's client: everything the client owes `provider` on the stream so far.
///   - Receipt(uint256 streamId,bytes32 requestId,bytes32 responseHash,uint32 promptTokens,uint32 completionTokens),
///     signed by the provider at the end of each response.
/// Signatures are checked with OpenZeppelin's SignatureChecker: 65-byte ECDSA signatures
/// (low s) for accounts without code, ERC-1271 for contract accounts.
///
/// Rules (details in contracts/README.md):
///   - Subscribing: a registered provider other than the client, once per stream, while the
///     stream is Active and has fewer than MAX_SUBSCRIBERS (32) subscribers; locks the stream's
///     `collateral` out of its free stake. Leaving takes `unsubscribeNotice` seconds, and waits
///     for every open dispute that accuses it or seats it.
///   - Allowances: the client reserves parts of the deposit for single subscribers
///     (increaseAllowance). Only that provider's redeems can spend its allowance, so
///     {surelyRedeemable} (the allowance left, less any announced decrease) is credit the chain
///     guarantees: a provider that serves only within it is paid in full whatever the client and
///     the other subscribers do, provided it redeems before the stream's closeAt. The client
///     lowers an allowance only with a notice of `closeNotice` seconds
///     (requestAllowanceDecrease, then finishAllowanceDecrease); the announced amount leaves
///     surelyRedeemable at once. What is left of an allowance returns to the unreserved deposit
///     when the subscription ends (finishUnsubscribe, removal by an invalid verdict) and at the
///     close.
///   - Redeeming: pays min(cumulativeAmount - redeemed, allowance left + unreserved deposit),
///     from the caller's allowance first; so a provider never gets more than the client signed
///     nor more than the stream holds for it; what could not be covered stays redeemable with the
///     same voucher after a top-up or a new allowance. Allowed until the stream is Closed,
///     whether or not the provider is still subscribed (its allowance ends with its subscription).
///   - Closing: `close` (client) starts `closeNotice`; providers keep redeeming; `finalizeClose`
///     (anyone, once the notice is over and no dispute is open) refunds the deposit to the client
///     and releases every subscriber's collateral. A Closed stream holds no funds and no locks.
///   - Disputes: anyone but the accused (the client, another subscriber, any account) names a
///     response by its provider-signed receipt and pays the stream's `disputeBond`. Its council is
///     drawn by `seatDispute` (anyone, in a later block) from the ProviderRegistry council pool of
///     the stream's model, weighted by stake, as of the block before the dispute's, seeded by the
///     dispute block's hash: councilSize members other than the accused, the disputer and the
///     client, each with free stake for the stream's collateral, which is locked for the
///     dispute. A pool too small for a full council drops the dispute (bond refunded, nobody
///     slashed). The seated council commits and reveals a verdict (accept = the response is valid) as in TaskMarket. The
///     response is Invalid iff more than seats / 2 seats reveal "invalid" (a strict majority of
///     the seated council); otherwise (a tie, too few reveals, none at all) it is Valid: the
///     disputer carries the burden of proof against a provider-signed receipt.
///       Invalid: the accused's collateral on the stream is slashed, `voterRewardBps` of it split
///       equally among the reject voters; the accused is removed from the stream. The rest (with
///       rounding dust) and the bond go to the client when it disputed; when someone else did, that
///       disputer gets its bond back and half of the rest, the client (who paid for the bad
///       response) the other half.
///       Valid: `voterRewardBps` of the bond is split equally among the accept voters and the rest
///       (all of it when nobody accepted) goes to the provider: a disputer of honest work loses
///       its bond.
///     Either way a seat that did not reveal is slashed `nonRevealSlash` (out of the collateral
///     locked for its seat) to the client; minority voters get nothing. One open dispute per
///     accused provider at a time, one dispute per receipt ever, and none once the close notice
///     is over.
///
/// The configuration is public through ConfigUpdated (and copied into each stream at creation);
/// which receipts were disputed, through DisputeOpened; the market keeps no getters for them, nor
/// for its constants, to stay under EIP-170.
/// Limits: at most 32 subscribers per stream, councils of at most 16, durations (notices, windows,
/// max downtime) of at most 365 days, spec and evidence URIs of at most 256 bytes.
///
/// All payments are pushed inside the call that settles them; the token must be the registry's
/// plain ERC-20. Every function that calls out (token, registry) is nonReentrant and follows
/// checks-effects-interactions; the ones that make no external call are not guarded (nothing
/// they do can be re-entered). The market needs MARKET_ROLE on the registry.
interface IStreamMarket is IVerdictRound, IERC5267 {
    // ---------------------------------------------------------------- types

    /// @notice Lifecycle of a stream.
    enum StreamStatus {
        None, // no such stream
        Active, // open for subscriptions, requests, vouchers and disputes
        Closing, // close notice running: redeem, top up and dispute (until closeAt) still possible
        Closed // deposit refunded, every subscriber released
    }

    /// @notice How the client gateway releases a response (enforced off-chain by the gateway;
    ///         recorded so that providers know the terms).
    enum ResponseMethod {
        Optimistic, // the response goes out at once; verification runs after it
        Weighted, // released after ceil(weightBps * councilSize / 10,000) approvals
        Unanimous // released after all councilSize approve
    }

    /// @notice Lifecycle of a provider's subscription to a stream.
    enum SubscriptionStatus {
        None, // not subscribed
        Active, // subscribed
        Unsubscribing, // unsubscribe notice running (still a subscriber: serves, votes, can be disputed)
        Removed // removed by an invalid dispute verdict: slashed, and may not subscribe again
    }

    /// @notice Lifecycle of a dispute.
    enum DisputeState {
        None, // no such dispute
        Open, // verdict round running
        Valid, // closed: no majority of the seats judged the response invalid (ties, silence included)
        Invalid, // closed: the response was judged invalid; the provider was slashed and removed
        Seating, // opened; its council is not seated yet (seatDispute, in a later block)
        NoCouncil // closed: the staked pool could not seat a full council; nobody slashed, the bond refunded
    }

    /// @notice Protocol bounds, set by the admin. Changes apply to streams created afterwards; a
    ///         stream copies what its settlement needs (nonRevealSlash, voterRewardBps) at creation.
    /// @param maxCouncilSize Largest council size a stream may ask for, 1..16.
    /// @param nonRevealSlashBps Slash per unrevealed dispute verdict, in basis points of the
    ///        stream's collateral, 0..10,000.
    /// @param voterRewardBps Share, in basis points (0..10,000), of an invalid response's slashed
    ///        collateral that goes to the reject voters, and of a valid response's bond that goes to
    ///        the accept voters.
    /// @param minCollateral Smallest collateral a stream may ask of each subscriber (>= 1).
    /// @param minDisputeBond Smallest dispute bond a stream may set (0 allowed).
    /// @param minNotice Bounds of the unsubscribe and the close notice, seconds.
    /// @param maxNotice Bounds of the unsubscribe and the close notice, seconds.
    /// @param minVerdictWindow Bounds of the dispute commit and reveal windows, seconds.
    /// @param maxVerdictWindow Bounds of the dispute commit and reveal windows, seconds.
    ///        Every window is 1..MAX_DURATION with min <= max.
    struct Config {
        uint8 maxCouncilSize;
        uint16 nonRevealSlashBps;
        uint16 voterRewardBps;
        uint96 minCollateral;
        uint96 minDisputeBond;
        uint32 minNotice;
        uint32 maxNotice;
        uint32 minVerdictWindow;
        uint32 maxVerdictWindow;
    }

    /// @notice What a client creates a stream with (the on-chain part of its prescription).
    /// @param modelHash sha256 of the model's GGUF file (not zero).
    /// @param specHash keccak256 of the canonical JSON of the terms document (not zero).
    /// @param specUri Where the terms document is, 1..256 bytes.
    /// @param pricePerKTokenGenerated oGPU (wei) per 1,000 generated tokens (< 2^128).
    /// @param pricePerKTokenVerified oGPU (wei) per 1,000 tokens verified by prefill (< 2^128).
    /// @param councilSize c: verifiers per response off-chain, and dispute seats; 1..maxCouncilSize.
    /// @param responseMethod How the gateway releases responses.
    /// @param weightBps w for Weighted, 1..10,000; must be 0 for the other methods.
    /// @param collateral Stake each subscriber locks, >= minCollateral, < 2^96.
    /// @param maxDowntime H: seconds without c live subscribers after which the stream counts as
    ///        interrupted (off-chain), 1..MAX_DURATION.
    /// @param unsubscribeNotice Seconds between requestUnsubscribe and finishUnsubscribe.
    /// @param closeNotice Seconds between close and finalizeClose.
    /// @param commitWindow Seconds of a dispute's commit phase.
    /// @param revealWindow Seconds of a dispute's reveal phase.
    /// @param disputeBond Bond the client pays per dispute, >= minDisputeBond, < 2^96.
    /// @param deposit Escrowed from the client at creation (may be 0; see topUp).
    struct StreamParams {
        bytes32 modelHash;
        bytes32 specHash;
        string specUri;
        uint256 pricePerKTokenGenerated;
        uint256 pricePerKTokenVerified;
        uint8 councilSize;
        ResponseMethod responseMethod;
        uint16 weightBps;
        uint256 collateral;
        uint32 maxDowntime;
        uint32 unsubscribeNotice;
        uint32 closeNotice;
        uint32 commitWindow;
        uint32 revealWindow;
        uint256 disputeBond;
        uint256 deposit;
    }

    /// @notice A stream, as returned by {getStream}.
    /// @param client Who created it (signs vouchers, disputes, receives refunds).
    /// @param status Lifecycle state.
    /// @param modelHash See {StreamParams}.
    /// @param specHash See {StreamParams}.
    /// @param specUri See {StreamParams}.
    /// @param pricePerKTokenGenerated Current price (see updateTerms).
    /// @param pricePerKTokenVerified Current price (see updateTerms).
    /// @param councilSize See {StreamParams}.
    /// @param responseMethod See {StreamParams}.
    /// @param weightBps See {StreamParams}.
    /// @param collateral See {StreamParams}.
    /// @param maxDowntime See {StreamParams}.
    /// @param unsubscribeNotice See {StreamParams}.
    /// @param closeNotice See {StreamParams}.
    /// @param commitWindow See {StreamParams}.
    /// @param revealWindow See {StreamParams}.
    /// @param disputeBond See {StreamParams}.
    /// @param nonRevealSlash Slash per unrevealed dispute verdict (fixed at creation).
    /// @param voterRewardBps Voters' share of a slash or a bond (fixed at creation).
    /// @param deposit The unreserved deposit: tokens left to pay vouchers with that no allowance
    ///        reserves (0 once Closed). The rest of the stream's funds are its subscribers'
    ///        allowances (subscription(..).allowance).
    /// @param createdAt Creation timestamp.
    /// @param closeAt End of the close notice (0 while Active).
    /// @param subscriberCount Current subscribers (Active or Unsubscribing).
    /// @param openDisputes Disputes open on the stream.
    struct Stream {
        address client;
        StreamStatus status;
        bytes32 modelHash;
        bytes32 specHash;
        string specUri;
        uint256 pricePerKTokenGenerated;
        uint256 pricePerKTokenVerified;
        uint8 councilSize;
        ResponseMethod responseMethod;
        uint16 weightBps;
        uint256 collateral;
        uint32 maxDowntime;
        uint32 unsubscribeNotice;
        uint32 closeNotice;
        uint32 commitWindow;
        uint32 revealWindow;
        uint256 disputeBond;
        uint256 nonRevealSlash;
        uint16 voterRewardBps;
        uint256 deposit;
        uint64 createdAt;
        uint64 closeAt;
        uint8 subscriberCount;
        uint8 openDisputes;
    }

    /// @notice A provider's subscription, as returned by {subscription}.
    /// @param status Its state (None when not subscribed; Removed after an invalid verdict).
    /// @param locked Collateral this market holds locked for it on the stream: the stream's
    ///        collateral, less any non-reveal slash; 0 when not subscribed.
    /// @param subscribedAt When it subscribed (0 when not subscribed).
    /// @param noticeEnd When Unsubscribing: when it may finish (0 otherwise).
    /// @param openDispute The open dispute accusing it (0 when none).
    /// @param allowance Its allowance left: the part of the deposit reserved for it, which only its
    ///        redeems spend (they spend it first). Kept after the subscription ends until released.
    /// @param pendingDecrease The allowance decrease the client announced (0 when none).
    /// @param decreaseAt When the announced decrease may be applied (0 when none).
    struct Subscription {
        SubscriptionStatus status;
        uint256 locked;
        uint64 subscribedAt;
        uint64 noticeEnd;
        uint256 openDispute;
        uint256 allowance;
        uint256 pendingDecrease;
        uint64 decreaseAt;
    }

    /// @notice The provider's signed receipt of one response (EIP-712 type `Receipt`).
    /// @param streamId The stream.
    /// @param requestId The client's request id.
    /// @param responseHash Hash of the response (see docs/protocol.md).
    /// @param promptTokens Prompt tokens.
    /// @param completionTokens Completion (generated) tokens.
    struct Receipt {
        uint256 streamId;
        bytes32 requestId;
        bytes32 responseHash;
        uint32 promptTokens;
        uint32 completionTokens;
    }

    /// @notice One voucher to redeem in {redeemMany}.
    /// @param streamId The stream.
    /// @param cumulativeAmount The voucher's cumulative amount.
    /// @param signature The client's signature of Voucher(streamId, caller, cumulativeAmount).
    struct Redemption {
        uint256 streamId;
        uint256 cumulativeAmount;
        bytes signature;
    }

    /// @notice A dispute, as returned by {getDispute}.
    /// @param streamId The stream.
    /// @param provider The accused provider.
    /// @param disputer Who opened it and paid the bond.
    /// @param state Its state.
    /// @param receipt The disputed receipt.
    /// @param bond The disputer's bond (held by the market while Open).
    /// @param council The voters, seat by seat.
    /// @param openedAt Opening timestamp.
    /// @param commitEnd End of the commit phase.
    /// @param revealEnd End of the reveal phase.
    /// @param commits Seats that committed.
    /// @param reveals Seats that revealed.
    /// @param approvals Revealed "valid" verdicts.
    /// @param rejections Revealed "invalid" verdicts.
    struct Dispute {
        uint256 streamId;
        address provider;
        address disputer;
        DisputeState state;
        Receipt receipt;
        uint256 bond;
        address[] council;
        uint64 openedAt;
        uint64 commitEnd;
        uint64 revealEnd;
        uint8 commits;
        uint8 reveals;
        uint8 approvals;
        uint8 rejections;
        uint64 drawBlock;
    }

    /// @notice One council member's verdict in a dispute, as returned by {verdictOf}.
    /// @param member Whether the account holds a seat in the dispute.
    /// @param seat Its seat (meaningful when member).
    /// @param committed Whether it committed.
    /// @param revealed Whether it revealed.
    /// @param accept The revealed verdict, true = valid (meaningful when revealed).
    /// @param commitment The commitment (0 when none).
    struct Verdict {
        bool member;
        uint8 seat;
        bool committed;
        bool revealed;
        bool accept;
        bytes32 commitment;
    }

    // ---------------------------------------------------------------- errors

    /// @notice The constructor got the zero address as registry.
    /// @param registry The rejected registry.
    error StreamMarketInvalidRegistry(address registry);

    /// @notice The token is not the registry's staking token.
    /// @param token The token given.
    /// @param registryToken The registry's token.
    error StreamMarketTokenMismatch(address token, address registryToken);

    /// @notice The constructor got the zero address as admin.
    /// @param admin The rejected admin.
    error StreamMarketInvalidAdmin(address admin);

    /// @notice A configuration field is out of its bounds (see {Config}).
    /// @param field The field's name, e.g. "maxCouncilSize".
    error StreamMarketInvalidConfig(string field);

    /// @notice modelHash or specHash is zero.
    /// @param modelHash The given model hash.
    /// @param specHash The given spec hash.
    error StreamMarketMissingHash(bytes32 modelHash, bytes32 specHash);

    /// @notice The spec URI is empty or too long.
    /// @param length Its length in bytes.
    /// @param maxLength The largest length allowed.
    error StreamMarketInvalidSpecUri(uint256 length, uint256 maxLength);

    /// @notice councilSize is 0 or above the configured maximum.
    /// @param councilSize The rejected size.
    /// @param maxCouncilSize The configured maximum.
    error StreamMarketInvalidCouncilSize(uint8 councilSize, uint8 maxCouncilSize);

    /// @notice weightBps is not in 1..10,000 for Weighted, or not 0 for another method.
    /// @param method The response method.
    /// @param weightBps The rejected weight.
    error StreamMarketInvalidWeight(ResponseMethod method, uint16 weightBps);

    /// @notice collateral is below the configured minimum.
    /// @param collateral The rejected collateral.
    /// @param minCollateral The configured minimum.
    error StreamMarketCollateralTooLow(uint256 collateral, uint256 minCollateral);

    /// @notice disputeBond is below the configured minimum.
    /// @param bond The rejected bond.
    /// @param minBond The configured minimum.
    error StreamMarketDisputeBondTooLow(uint256 bond, uint256 minBond);

    /// @notice maxDowntime is 0 or above MAX_DURATION.
    /// @param maxDowntime The rejected value, seconds.
    /// @param maxDuration MAX_DURATION.
    error StreamMarketInvalidMaxDowntime(uint32 maxDowntime, uint32 maxDuration);

    /// @notice The unsubscribe or the close notice is out of the configured bounds.
    /// @param notice The rejected notice, seconds.
    /// @param minNotice The configured minimum.
    /// @param maxNotice The configured maximum.
    error StreamMarketInvalidNotice(uint32 notice, uint32 minNotice, uint32 maxNotice);

    /// @notice The commit or the reveal window is out of the configured bounds.
    /// @param window The rejected window, seconds.
    /// @param minWindow The configured minimum.
    /// @param maxWindow The configured maximum.
    error StreamMarketInvalidVerdictWindow(uint32 window, uint32 minWindow, uint32 maxWindow);

    /// @notice No stream has this id.
    /// @param streamId The id.
    error StreamMarketUnknownStream(uint256 streamId);

    /// @notice The stream is not in the state the call needs.
    /// @param streamId The stream.
    /// @param status Its state.
    /// @param expected The state the call needs.
    error StreamMarketUnexpectedStatus(uint256 streamId, StreamStatus status, StreamStatus expected);

    /// @notice The stream is Closed (the call needs it Active or Closing).
    /// @param streamId The stream.
    error StreamMarketStreamClosed(uint256 streamId);

    /// @notice Only the stream's client may do this.
    /// @param streamId The stream.
    /// @param account The caller.
    error StreamMarketNotClient(uint256 streamId, address account);

    /// @notice An amount of zero was given where a positive amount is required.
    error StreamMarketZeroAmount();

    /// @notice The client may not subscribe to its own stream.
    /// @param streamId The stream.
    /// @param client The client.
    error StreamMarketClientCannotSubscribe(uint256 streamId, address client);

    /// @notice The caller is not a registered provider.
    /// @param provider The caller.
    error StreamMarketProviderNotRegistered(address provider);

    /// @notice The provider is already subscribed (or unsubscribing) to the stream.
    /// @param streamId The stream.
    /// @param provider The provider.
    error StreamMarketAlreadySubscribed(uint256 streamId, address provider);

    /// @notice The provider was removed from the stream by an invalid dispute verdict and may not
    ///         subscribe to it again.
    /// @param streamId The stream.
    /// @param provider The provider.
    error StreamMarketProviderRemoved(uint256 streamId, address provider);

    /// @notice The stream already has MAX_SUBSCRIBERS subscribers.
    /// @param streamId The stream.
    /// @param maxSubscribers The cap.
    error StreamMarketSubscriberCapReached(uint256 streamId, uint8 maxSubscribers);

    /// @notice The provider is not subscribed to the stream (or not in the state the call needs).
    /// @param streamId The stream.
    /// @param provider The provider.
    /// @param status Its subscription state.
    error StreamMarketNotSubscribed(uint256 streamId, address provider, SubscriptionStatus status);

    /// @notice The unsubscribe notice is not over yet.
    /// @param streamId The stream.
    /// @param provider The provider.
    /// @param noticeEnd When it ends.
    error StreamMarketUnsubscribeNoticeNotOver(uint256 streamId, address provider, uint64 noticeEnd);

    /// @notice The provider cannot leave while a dispute accuses it (a council seat holds its own
    ///         lock in the registry, not the subscription).
    /// @param streamId The stream.
    /// @param provider The provider.
    /// @param openDispute The open dispute accusing it.
    error StreamMarketSubscriptionBusy(uint256 streamId, address provider, uint256 openDispute);

    /// @notice The close notice is not over yet.
    /// @param streamId The stream.
    /// @param closeAt When it ends.
    error StreamMarketCloseNoticeNotOver(uint256 streamId, uint64 closeAt);

    /// @notice The close notice is over: no new dispute.
    /// @param streamId The stream.
    /// @param closeAt When it ended.
    error StreamMarketCloseNoticeOver(uint256 streamId, uint64 closeAt);

    /// @notice The stream cannot be closed while disputes are open.
    /// @param streamId The stream.
    /// @param openDisputes Disputes still open.
    error StreamMarketDisputesOpen(uint256 streamId, uint8 openDisputes);

    /// @notice The voucher does not raise the provider's redeemed total: its cumulative amount is
    ///         at most what was already redeemed on the stream.
    /// @param streamId The stream.
    /// @param provider The provider.
    /// @param cumulativeAmount The voucher's amount.
    /// @param redeemed What was already redeemed.
    error StreamMarketCumulativeNotIncreasing(
        uint256 streamId, address provider, uint256 cumulativeAmount, uint256 redeemed
    );

    /// @notice The voucher's signature is not the stream client's.
    /// @param streamId The stream.
    /// @param provider The provider (the caller).
    /// @param cumulativeAmount The voucher's amount.
    error StreamMarketInvalidVoucherSignature(uint256 streamId, address provider, uint256 cumulativeAmount);

    /// @notice Neither the provider's allowance nor the stream's unreserved deposit holds anything:
    ///         nothing can be paid until a top-up or a new allowance.
    /// @param streamId The stream.
    /// @param owed What the voucher still owes the provider.
    error StreamMarketDepositEmpty(uint256 streamId, uint256 owed);

    /// @notice An allowance increase is larger than the unreserved deposit.
    /// @param streamId The stream.
    /// @param amount The increase asked for.
    /// @param deposit The unreserved deposit.
    error StreamMarketAllowanceExceedsDeposit(uint256 streamId, uint256 amount, uint256 deposit);

    /// @notice An allowance decrease is larger than the part of the allowance not yet announced
    ///         for a decrease.
    /// @param streamId The stream.
    /// @param provider The provider.
    /// @param amount The decrease asked for.
    /// @param decreasable The allowance left less the decrease already pending.
    error StreamMarketDecreaseExceedsAllowance(uint256 streamId, address provider, uint256 amount, uint256 decreasable);

    /// @notice No allowance decrease is pending for the provider on the stream.
    /// @param streamId The stream.
    /// @param provider The provider.
    error StreamMarketNoAllowanceDecrease(uint256 streamId, address provider);

    /// @notice The notice of an allowance decrease is not over yet.
    /// @param streamId The stream.
    /// @param provider The provider.
    /// @param decreaseAt When it ends.
    error StreamMarketAllowanceNoticeNotOver(uint256 streamId, address provider, uint64 decreaseAt);

    /// @notice redeemMany got no voucher or more than MAX_REDEEM_BATCH.
    /// @param length The batch's length.
    /// @param maxLength MAX_REDEEM_BATCH.
    error StreamMarketInvalidBatch(uint256 length, uint256 maxLength);

    /// @notice The receipt's signature is not the accused provider's.
    /// @param streamId The stream.
    /// @param provider The accused provider.
    /// @param requestId The receipt's request id.
    error StreamMarketInvalidReceiptSignature(uint256 streamId, address provider, bytes32 requestId);

    /// @notice This receipt was disputed before (a response is judged once).
    /// @param receiptDigest The receipt's EIP-712 digest.
    /// @param disputeId The dispute that judged it.
    error StreamMarketReceiptAlreadyDisputed(bytes32 receiptDigest, uint256 disputeId);

    /// @notice The provider is already accused in an open dispute on the stream.
    /// @param streamId The stream.
    /// @param provider The provider.
    /// @param disputeId The open dispute.
    error StreamMarketProviderUnderDispute(uint256 streamId, address provider, uint256 disputeId);

    /// @notice The accused cannot dispute its own receipt.
    /// @param streamId The stream.
    /// @param provider The accused provider (the caller).
    error StreamMarketSelfDispute(uint256 streamId, address provider);

    /// @notice The dispute's council is drawn from a block's hash: seatDispute must wait for the
    ///         block after its draw block.
    /// @param disputeId The dispute.
    /// @param drawBlock The draw block (seating is possible from drawBlock + 1).
    error StreamMarketSeatingTooEarly(uint256 disputeId, uint64 drawBlock);

    /// @notice Only a dispute waiting for its council (Seating) can be seated.
    /// @param disputeId The dispute.
    /// @param state Its state (None: no such dispute).
    error StreamMarketNotSeating(uint256 disputeId, DisputeState state);

    /// @notice The evidence URI is empty or too long.
    /// @param length Its length in bytes.
    /// @param maxLength The largest length allowed.
    error StreamMarketInvalidEvidenceUri(uint256 length, uint256 maxLength);

    /// @notice No dispute has this id.
    /// @param disputeId The id.
    error StreamMarketUnknownDispute(uint256 disputeId);

    /// @notice The dispute is closed.
    /// @param disputeId The dispute.
    /// @param state Its state.
    error StreamMarketDisputeNotOpen(uint256 disputeId, DisputeState state);

    /// @notice Only a council member of the dispute may do this.
    /// @param disputeId The dispute.
    /// @param account The caller.
    error StreamMarketNotCouncilMember(uint256 disputeId, address account);

    // ---------------------------------------------------------------- events

    /// @notice The configuration was set (constructor or admin).
    /// @param config The new configuration.
    event ConfigUpdated(Config config);

    /// @notice A stream was created and its deposit pulled from the client.
    /// @param streamId The new stream's id.
    /// @param client The client.
    /// @param params Everything the client gave (prices, terms, deposit).
    /// @param nonRevealSlash Slash per unrevealed dispute verdict on this stream.
    /// @param voterRewardBps Voters' share of a slash or a bond on this stream.
    event StreamCreated(
        uint256 indexed streamId, address indexed client, StreamParams params, uint256 nonRevealSlash, uint16 voterRewardBps
    );

    /// @notice The client changed the stream's prices (they apply to responses from now on).
    /// @param streamId The stream.
    /// @param pricePerKTokenGenerated The new price per 1,000 generated tokens.
    /// @param pricePerKTokenVerified The new price per 1,000 verified tokens.
    event TermsUpdated(uint256 indexed streamId, uint256 pricePerKTokenGenerated, uint256 pricePerKTokenVerified);

    /// @notice Tokens were added to the stream's deposit.
    /// @param streamId The stream.
    /// @param from Who paid.
    /// @param amount The amount added.
    /// @param deposit The deposit afterwards.
    event DepositToppedUp(uint256 indexed streamId, address indexed from, uint256 amount, uint256 deposit);

    /// @notice A provider subscribed; the stream's collateral was locked in the registry.
    /// @param streamId The stream.
    /// @param provider The provider (appended at the end of subscribersOf).
    /// @param collateral The collateral locked.
    /// @param subscriberCount Subscribers afterwards.
    event Subscribed(uint256 indexed streamId, address indexed provider, uint256 collateral, uint8 subscriberCount);

    /// @notice A subscriber asked to leave; its notice started.
    /// @param streamId The stream.
    /// @param provider The subscriber.
    /// @param noticeEnd When it may finish.
    event UnsubscribeRequested(uint256 indexed streamId, address indexed provider, uint64 noticeEnd);

    /// @notice A subscriber left after its notice; its remaining collateral was released.
    /// @param streamId The stream.
    /// @param provider The former subscriber (removed from subscribersOf; the order of the others is kept).
    /// @param released Collateral released.
    /// @param subscriberCount Subscribers afterwards.
    event Unsubscribed(uint256 indexed streamId, address indexed provider, uint256 released, uint8 subscriberCount);

    /// @notice A provider redeemed a voucher.
    /// @param streamId The stream.
    /// @param provider The provider, who was paid.
    /// @param cumulativeAmount The voucher's cumulative amount.
    /// @param paid Paid now: min(cumulativeAmount - previous redeemed, allowance + deposit),
    ///        from its allowance first.
    /// @param redeemed The provider's redeemed total on the stream afterwards.
    /// @param allowance The provider's allowance left afterwards.
    /// @param deposit The stream's unreserved deposit afterwards.
    event VoucherRedeemed(
        uint256 indexed streamId,
        address indexed provider,
        uint256 cumulativeAmount,
        uint256 paid,
        uint256 redeemed,
        uint256 allowance,
        uint256 deposit
    );

    /// @notice The client reserved part of the unreserved deposit for a subscriber.
    /// @param streamId The stream.
    /// @param provider The subscriber.
    /// @param amount The amount moved from the deposit into its allowance.
    /// @param allowance Its allowance left afterwards.
    /// @param deposit The unreserved deposit afterwards.
    event AllowanceIncreased(
        uint256 indexed streamId, address indexed provider, uint256 amount, uint256 allowance, uint256 deposit
    );

    /// @notice The client announced a decrease of a provider's allowance; it leaves
    ///         surelyRedeemable now and the allowance at decreaseAt.
    /// @param streamId The stream.
    /// @param provider The provider.
    /// @param amount The decrease announced by this call.
    /// @param pendingDecrease The whole decrease pending afterwards.
    /// @param decreaseAt When it may be applied (the notice restarts with every request).
    event AllowanceDecreaseRequested(
        uint256 indexed streamId, address indexed provider, uint256 amount, uint256 pendingDecrease, uint64 decreaseAt
    );

    /// @notice An announced allowance decrease was applied after its notice.
    /// @param streamId The stream.
    /// @param provider The provider.
    /// @param amount The amount moved back into the unreserved deposit.
    /// @param allowance The provider's allowance left afterwards.
    /// @param deposit The unreserved deposit afterwards.
    event AllowanceDecreased(
        uint256 indexed streamId, address indexed provider, uint256 amount, uint256 allowance, uint256 deposit
    );

    /// @notice A provider's subscription ended (finished unsubscribing, removed, or the stream
    ///         closed): what was left of its allowance went back into the unreserved deposit.
    /// @param streamId The stream.
    /// @param provider The provider.
    /// @param amount The amount returned.
    /// @param deposit The unreserved deposit afterwards.
    event AllowanceReleased(uint256 indexed streamId, address indexed provider, uint256 amount, uint256 deposit);

    /// @notice The client started closing the stream.
    /// @param streamId The stream.
    /// @param closeAt When the notice ends (finalizeClose possible, no new dispute).
    event StreamCloseRequested(uint256 indexed streamId, uint64 closeAt);

    /// @notice The stream closed: the deposit (every allowance left included) was refunded to the
    ///         client and every subscriber's remaining collateral released (subscribersOf is empty
    ///         afterwards).
    /// @param streamId The stream.
    /// @param clientRefund Refunded to the client.
    event StreamClosed(uint256 indexed streamId, uint256 clientRefund);

    /// @notice Someone disputed a response; the bond was pulled from it. Its council is drawn
    ///         from the staked pool by seatDispute in a later block.
    /// @param disputeId The new dispute's id.
    /// @param streamId The stream.
    /// @param provider The accused provider.
    /// @param disputer Who disputed and paid the bond (kept off the council).
    /// @param receipt The disputed receipt (signed by the provider).
    /// @param evidenceUri Where the council finds the request and the response.
    /// @param bond The bond.
    /// @param drawBlock The block whose hash seeds the draw (the pool as of drawBlock - 1).
    event DisputeOpened(
        uint256 indexed disputeId,
        uint256 indexed streamId,
        address indexed provider,
        address disputer,
        Receipt receipt,
        string evidenceUri,
        uint256 bond,
        uint64 drawBlock
    );

    /// @notice The dispute's council was drawn from the stream model's staked pool and seated; its
    ///         verdict round opened. Every seat had the stream's collateral locked for the dispute.
    /// @param disputeId The dispute.
    /// @param council The voters, seat by seat.
    /// @param drawBlock The block whose hash seeded the draw.
    /// @param commitEnd End of the commit phase.
    /// @param revealEnd End of the reveal phase.
    event DisputeCouncilSeated(
        uint256 indexed disputeId, address[] council, uint64 drawBlock, uint64 commitEnd, uint64 revealEnd
    );

    /// @notice The draw block's hash was out of reach (over 256 blocks old): the draw moved to a later block.
    /// @param disputeId The dispute.
    /// @param fromBlock The old draw block.
    /// @param toBlock The new draw block.
    event DisputeDrawReanchored(uint256 indexed disputeId, uint64 fromBlock, uint64 toBlock);

    /// @notice The staked pool could not seat a full council: the dispute ended, nobody was
    ///         slashed and the bond went back to the disputer (the receipt stays disputed).
    /// @param disputeId The dispute.
    /// @param streamId The stream.
    /// @param provider The accused provider, no longer under dispute.
    /// @param disputer The disputer.
    /// @param bond The bond refunded.
    event DisputeDropped(
        uint256 indexed disputeId, uint256 indexed streamId, address indexed provider, address disputer, uint256 bond
    );

    /// @notice A council member committed its verdict.
    /// @param disputeId The dispute.
    /// @param voter The council member.
    /// @param commitment Its commitment.
    event VerdictCommitted(uint256 indexed disputeId, address indexed voter, bytes32 commitment);

    /// @notice A council member revealed its verdict.
    /// @param disputeId The dispute.
    /// @param voter The council member.
    /// @param accept The verdict: true = the response is valid.
    event VerdictRevealed(uint256 indexed disputeId, address indexed voter, bool accept);

    /// @notice A council member that did not reveal was slashed (to the client); its collateral
    ///         on the stream went down by `amount`.
    /// @param disputeId The dispute.
    /// @param voter The council member.
    /// @param amount The amount slashed (> 0; not emitted when nothing was left to slash).
    event VoterSlashed(uint256 indexed disputeId, address indexed voter, uint256 amount);

    /// @notice A dispute was closed and settled. Invalid: the provider was slashed and removed
    ///         from the stream (subscribersOf keeps the others' order), the bond refunded.
    ///         Valid: the bond paid out.
    /// @param disputeId The dispute.
    /// @param streamId The stream.
    /// @param provider The accused provider.
    /// @param valid The outcome.
    /// @param approvals Revealed "valid" verdicts.
    /// @param rejections Revealed "invalid" verdicts.
    /// @param providerSlashed Collateral slashed from the provider (0 when valid).
    /// @param rewardPerVoter Paid to each majority voter (out of the slash, or out of the bond).
    /// @param toClient Paid to the client (invalid, else 0): the slash's rest plus the bond when it
    ///        disputed; half of the slash's rest when someone else did (see DisputerRewarded).
    /// @param toProvider Paid to the provider: the bond's rest (valid), else 0.
    event DisputeResolved(
        uint256 indexed disputeId,
        uint256 indexed streamId,
        address indexed provider,
        bool valid,
        uint8 approvals,
        uint8 rejections,
        uint256 providerSlashed,
        uint256 rewardPerVoter,
        uint256 toClient,
        uint256 toProvider
    );

    /// @notice A disputer other than the client proved a response invalid: it got its bond back and
    ///         a share of the slash (paid in the same call as DisputeResolved).
    /// @param disputeId The dispute.
    /// @param disputer The disputer.
    /// @param bond Its bond, returned.
    /// @param reward Its share of what the voters left of the slash.
    event DisputerRewarded(uint256 indexed disputeId, address indexed disputer, uint256 bond, uint256 reward);

    // ---------------------------------------------------------------- client

    /// @notice Creates a stream and escrows `params.deposit` from the caller (needs a prior
    ///         ERC-20 approval when the deposit is not 0).
    /// @dev Reverts StreamMarketMissingHash, ...InvalidSpecUri, ...InvalidCouncilSize,
    ///      ...InvalidWeight, ...CollateralTooLow, ...DisputeBondTooLow, ...InvalidMaxDowntime,
    ///      ...InvalidNotice, ...InvalidVerdictWindow; SafeCastOverflowedUintDowncast when a price
    ///      exceeds 2^128 - 1 or collateral, bond or deposit 2^96 - 1.
    /// @param params The stream.
    /// @return streamId The new stream's id.
    function create(StreamParams calldata params) external returns (uint256 streamId);

    /// @notice {create} with an ERC-2612 permit for the deposit. A failing permit (e.g.
    ///         front-run) is ignored: the transfer then needs the allowance to be in place.
    /// @param params The stream.
    /// @param deadline The permit's deadline.
    /// @param v The permit signature's v.
    /// @param r The permit signature's r.
    /// @param s The permit signature's s.
    /// @return streamId The new stream's id.
    function createWithPermit(StreamParams calldata params, uint256 deadline, uint8 v, bytes32 r, bytes32 s)
        external
        returns (uint256 streamId);

    /// @notice Changes the stream's prices. Only the client, while Active.
    /// @dev Reverts StreamMarketUnknownStream, StreamMarketNotClient, StreamMarketUnexpectedStatus;
    ///      SafeCastOverflowedUintDowncast past 2^128 - 1.
    /// @param streamId The stream.
    /// @param pricePerKTokenGenerated The new price per 1,000 generated tokens.
    /// @param pricePerKTokenVerified The new price per 1,000 verified tokens.
    function updateTerms(uint256 streamId, uint256 pricePerKTokenGenerated, uint256 pricePerKTokenVerified)
        external;

    /// @notice Adds `amount` to the stream's deposit, from the caller (anyone; the deposit left
    ///         at the close goes to the client). While Active or Closing.
    /// @dev Reverts StreamMarketZeroAmount, StreamMarketUnknownStream, StreamMarketStreamClosed;
    ///      SafeCastOverflowedUintDowncast when the deposit would exceed 2^96 - 1.
    /// @param streamId The stream.
    /// @param amount The amount.
    function topUp(uint256 streamId, uint256 amount) external;

    /// @notice {topUp} with an ERC-2612 permit for `amount` (a failing permit is ignored).
    /// @param streamId The stream.
    /// @param amount The amount.
    /// @param deadline The permit's deadline.
    /// @param v The permit signature's v.
    /// @param r The permit signature's r.
    /// @param s The permit signature's s.
    function topUpWithPermit(uint256 streamId, uint256 amount, uint256 deadline, uint8 v, bytes32 r, bytes32 s)
        external;

    /// @notice Starts closing the stream: closeAt = now + closeNotice. Providers can still redeem
    ///         until it is finalized. Only the client, while Active.
    /// @dev Reverts StreamMarketUnknownStream, StreamMarketNotClient, StreamMarketUnexpectedStatus.
    /// @param streamId The stream.
    function close(uint256 streamId) external;

    /// @notice Reserves `amount` of the unreserved deposit for `provider`, a subscriber (Active
    ///         or Unsubscribing): only its redeems can spend it. Only the client, while Active or
    ///         Closing.
    /// @dev Reverts StreamMarketZeroAmount, StreamMarketUnknownStream, StreamMarketStreamClosed,
    ///      StreamMarketNotClient, StreamMarketNotSubscribed, StreamMarketAllowanceExceedsDeposit.
    /// @param streamId The stream.
    /// @param provider The subscriber.
    /// @param amount The amount.
    function increaseAllowance(uint256 streamId, address provider, uint256 amount) external;

    /// @notice Announces a decrease of `provider`'s allowance by `amount` (added to any pending
    ///         decrease; the notice of closeNotice seconds restarts). surelyRedeemable drops by
    ///         `amount` at once; the allowance itself only at {finishAllowanceDecrease}, so the
    ///         provider can still redeem what it served before it saw the announcement. Only the
    ///         client, while Active or Closing.
    /// @dev Reverts StreamMarketZeroAmount, StreamMarketUnknownStream, StreamMarketStreamClosed,
    ///      StreamMarketNotClient, StreamMarketDecreaseExceedsAllowance.
    /// @param streamId The stream.
    /// @param provider The provider.
    /// @param amount The decrease.
    function requestAllowanceDecrease(uint256 streamId, address provider, uint256 amount) external;

    /// @notice Applies the pending decrease of `provider`'s allowance once its notice is over:
    ///         moves min(pending, allowance left) back into the unreserved deposit. Anyone.
    /// @dev Reverts StreamMarketUnknownStream, StreamMarketStreamClosed,
    ///      StreamMarketNoAllowanceDecrease, StreamMarketAllowanceNoticeNotOver.
    /// @param streamId The stream.
    /// @param provider The provider.
    function finishAllowanceDecrease(uint256 streamId, address provider) external;

    /// @notice Opens a dispute on a response of `provider`, named by its receipt and the
    ///         provider's EIP-712 signature of it, and pulls the stream's dispute bond from the
    ///         caller. Anyone but the accused, while Active or Closing before closeAt; the provider must
    ///         be subscribed (Active or Unsubscribing) and not already accused; the receipt must
    ///         never have been disputed. The current block is the draw block: seatDispute draws
    ///         the council in a later block.
    /// @dev Reverts StreamMarketUnknownStream, StreamMarketStreamClosed, StreamMarketSelfDispute,
    ///      StreamMarketCloseNoticeOver, StreamMarketInvalidEvidenceUri, StreamMarketNotSubscribed,
    ///      StreamMarketProviderUnderDispute, StreamMarketInvalidReceiptSignature,
    ///      StreamMarketReceiptAlreadyDisputed.
    /// @param provider The accused provider.
    /// @param receipt The receipt (its streamId names the stream).
    /// @param signature The provider's signature of the receipt.
    /// @param evidenceUri Where the council finds the request and the response, 1..256 bytes
    ///        (emitted, not stored).
    /// @return disputeId The new dispute's id.
    function openDispute(
        address provider,
        Receipt calldata receipt,
        bytes calldata signature,
        string calldata evidenceUri
    ) external returns (uint256 disputeId);

    /// @notice Seats a dispute's council; anyone, in a block after its draw block. Draws
    ///         councilSize members at random, weighted by stake, from the stream model's council
    ///         pool as of drawBlock - 1, seeded by keccak256(blockhash(drawBlock), disputeId),
    ///         excluding the accused, the disputer and the client; members without free stake for
    ///         the stream's collateral are skipped. Every seat gets the collateral locked
    ///         until finalizeDispute. The commit window starts now. When the
    ///         draw block is over 256 blocks old, moves the draw block to this one instead
    ///         (DisputeDrawReanchored). When no full council can be drawn, ends the dispute:
    ///         nobody slashed, the bond back to the disputer (DisputeDropped).
    /// @dev Reverts StreamMarketNotSeating (also for an unknown dispute), StreamMarketSeatingTooEarly.
    /// @param disputeId The dispute.
    function seatDispute(uint256 disputeId) external;

    // ---------------------------------------------------------------- providers

    /// @notice Subscribes the caller to an Active stream, locking its collateral.
    /// @dev Reverts StreamMarketUnknownStream, StreamMarketUnexpectedStatus,
    ///      StreamMarketClientCannotSubscribe, StreamMarketAlreadySubscribed,
    ///      StreamMarketProviderRemoved, StreamMarketSubscriberCapReached,
    ///      StreamMarketProviderNotRegistered, and the registry's
    ///      ProviderRegistryInsufficientFreeStake.
    /// @param streamId The stream.
    function subscribe(uint256 streamId) external;

    /// @notice Starts the caller's unsubscribe notice: noticeEnd = now + unsubscribeNotice. The
    ///         caller stays a subscriber (serves, votes, can be disputed) until it finishes.
    /// @dev Reverts StreamMarketNotSubscribed (not subscribed, or already Unsubscribing).
    /// @param streamId The stream.
    function requestUnsubscribe(uint256 streamId) external;

    /// @notice Ends the caller's subscription once its notice is over and no open dispute accuses
    ///         or seats it: releases its collateral, returns its allowance left to the unreserved
    ///         deposit (redeem first) and removes it from subscribersOf.
    /// @dev Reverts StreamMarketNotSubscribed, StreamMarketUnsubscribeNoticeNotOver,
    ///      StreamMarketSubscriptionBusy.
    /// @param streamId The stream.
    function finishUnsubscribe(uint256 streamId) external;

    /// @notice Redeems a voucher signed by the stream's client for the caller: pays
    ///         min(cumulativeAmount - redeemed, allowance left + unreserved deposit), from the
    ///         caller's allowance first. While the stream is Active or Closing; the caller need not
    ///         be subscribed any more.
    /// @dev Reverts StreamMarketUnknownStream, StreamMarketStreamClosed,
    ///      StreamMarketCumulativeNotIncreasing, StreamMarketInvalidVoucherSignature,
    ///      StreamMarketDepositEmpty.
    /// @param streamId The stream.
    /// @param cumulativeAmount The voucher's cumulative amount.
    /// @param signature The client's signature of Voucher(streamId, caller, cumulativeAmount).
    /// @return paid The amount paid.
    function redeem(uint256 streamId, uint256 cumulativeAmount, bytes calldata signature)
        external
        returns (uint256 paid);

    /// @notice Redeems up to MAX_REDEEM_BATCH vouchers (any streams; the same stream more than
    ///         once if its amounts increase) for the caller, with one token transfer. All or
    ///         nothing: any failing voucher reverts the whole batch with its error.
    /// @dev Reverts StreamMarketInvalidBatch, and {redeem}'s errors.
    /// @param redemptions The vouchers.
    /// @return paid The total paid.
    function redeemMany(Redemption[] calldata redemptions) external returns (uint256 paid);

    /// @notice A council member commits its verdict on a dispute: commitment =
    ///         keccak256(abi.encode(block.chainid, address(this), disputeId, accept, salt, voter)),
    ///         accept = the response is valid, salt a secret random 32 bytes (computed off chain:
    ///         the market has no getter for it, to stay under EIP-170).
    /// @dev Reverts StreamMarketUnknownDispute, StreamMarketDisputeNotOpen,
    ///      StreamMarketNotCouncilMember, VerdictRoundCommitClosed, VerdictRoundAlreadyCommitted.
    /// @param disputeId The dispute.
    /// @param commitment The commitment.
    function commitVerdict(uint256 disputeId, bytes32 commitment) external;

    /// @notice A council member reveals its verdict (accept = the response is valid).
    /// @dev Reverts StreamMarketUnknownDispute, StreamMarketDisputeNotOpen,
    ///      StreamMarketNotCouncilMember, VerdictRoundRevealNotStarted, VerdictRoundRevealClosed,
    ///      VerdictRoundNotCommitted, VerdictRoundAlreadyRevealed, VerdictRoundCommitmentMismatch.
    /// @param disputeId The dispute.
    /// @param accept The verdict.
    /// @param salt The salt used in the commitment.
    function revealVerdict(uint256 disputeId, bool accept, bytes32 salt) external;

    // ---------------------------------------------------------------- anyone

    /// @notice Closes a dispute's verdict round once the reveal phase is over (or everyone
    ///         revealed) and settles it (see DisputeResolved). Anyone.
    /// @dev Reverts StreamMarketUnknownDispute, StreamMarketDisputeNotOpen, VerdictRoundNotOver.
    /// @param disputeId The dispute.
    function finalizeDispute(uint256 disputeId) external;

    /// @notice Closes a Closing stream once its notice is over and no dispute is open: refunds
    ///         the deposit to the client and releases every subscriber. Anyone.
    /// @dev Reverts StreamMarketUnknownStream, StreamMarketUnexpectedStatus,
    ///      StreamMarketCloseNoticeNotOver, StreamMarketDisputesOpen.
    /// @param streamId The stream.
    function finalizeClose(uint256 streamId) external;

    // ---------------------------------------------------------------- admin

    /// @notice Sets the protocol bounds for streams created from now on. Only DEFAULT_ADMIN_ROLE.
    /// @dev Reverts StreamMarketInvalidConfig.
    /// @param config The new configuration.
    function setConfig(Config calldata config) external;

    // ---------------------------------------------------------------- views

    /// @notice Most vouchers per redeemMany: 32.
    /// @return The cap.
    function MAX_REDEEM_BATCH() external view returns (uint256);

    /// @notice The EIP-712 domain separator of {name: "ogpu", version: "1", chainId, this}.
    /// @return The separator.
    function DOMAIN_SEPARATOR() external view returns (bytes32);

    /// @notice The payment token (the registry's staking token).
    /// @return The token.
    function token() external view returns (IERC20);

    /// @notice The provider registry.
    /// @return The registry.
    function registry() external view returns (IProviderRegistry);

    /// @notice The id the next stream will get (ids start at 1).
    /// @return The id.
    function nextStreamId() external view returns (uint256);

    /// @notice The id the next dispute will get (ids start at 1).
    /// @return The id.
    function nextDisputeId() external view returns (uint256);

    /// @notice A stream (status None and zeros when unknown).
    /// @param streamId The stream.
    /// @return The stream.
    function getStream(uint256 streamId) external view returns (Stream memory);

    /// @notice What `provider` can surely redeem on the stream: its allowance left less any
    ///         announced decrease (0 when the stream is unknown or Closed). Nobody but the provider
    ///         can lower it without a notice, so a provider may serve against it; it must redeem
    ///         before the stream's closeAt.
    /// @param streamId The stream.
    /// @param provider The provider.
    /// @return The amount.
    function surelyRedeemable(uint256 streamId, address provider) external view returns (uint256);

    /// @notice The stream's subscribers in subscription order (Active and Unsubscribing).
    /// @param streamId The stream.
    /// @return The subscribers.
    function subscribersOf(uint256 streamId) external view returns (address[] memory);

    /// @notice `provider`'s subscription to the stream (zeros when not subscribed).
    /// @param streamId The stream.
    /// @param provider The provider.
    /// @return The subscription.
    function subscription(uint256 streamId, address provider) external view returns (Subscription memory);

    /// @notice What `provider` has redeemed on the stream so far.
    /// @param streamId The stream.
    /// @param provider The provider.
    /// @return The total.
    function redeemed(uint256 streamId, address provider) external view returns (uint256);

    /// @notice A dispute (state None and zeros when unknown).
    /// @param disputeId The dispute.
    /// @return The dispute.
    function getDispute(uint256 disputeId) external view returns (Dispute memory);

    /// @notice `voter`'s verdict in a dispute.
    /// @param disputeId The dispute.
    /// @param voter The account.
    /// @return The verdict.
    function verdictOf(uint256 disputeId, address voter) external view returns (Verdict memory);
}
