// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";

import {Test} from "./Test.sol";
import {OGPUToken} from "../../src/OGPUToken.sol";
import {ProviderRegistry} from "../../src/ProviderRegistry.sol";
import {IStreamMarket} from "../../src/interfaces/IStreamMarket.sol";

/// @notice Token, registry and StreamMarket deployed and wired (the market holds MARKET_ROLE),
///         a funded client with its key, and registered, staked providers with their keys (they
///         sign receipts), all in the council pool of MODEL_HASH (dispute councils are drawn from
///         it by seatDispute, a block after openDispute). EIP-712 digests are computed here from the type strings, independently
///         of the contract, so the tests also check the contract's hashing.
/// @dev StreamMarket is compiled via IR (foundry.toml): it is deployed from its artifact and
///      used through IStreamMarket only, never imported.
abstract contract StreamFixture is Test {
    bytes32 internal constant PERMIT_TYPEHASH =
        keccak256("Permit(address owner,address spender,uint256 value,uint256 nonce,uint256 deadline)");
    bytes32 internal constant DOMAIN_TYPEHASH =
        keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)");
    string internal constant VOUCHER_TYPE = "Voucher(uint256 streamId,address provider,uint256 cumulativeAmount)";
    string internal constant RECEIPT_TYPE =
        "Receipt(uint256 streamId,bytes32 requestId,bytes32 responseHash,uint32 promptTokens,uint32 completionTokens)";

    uint256 internal constant START = 1_700_000_000;
    uint256 internal constant START_BLOCK = 1_000;
    uint256 internal constant FUNDS = 100_000e18;
    uint256 internal constant STAKE = 1_000e18;
    uint64 internal constant UNBONDING = 1 days;

    // default stream
    uint256 internal constant PRICE_GEN = 2e15; // 0.002 oGPU per 1k generated tokens
    uint256 internal constant PRICE_VER = 5e14; // 0.0005 oGPU per 1k verified tokens
    uint8 internal constant COUNCIL = 3;
    uint256 internal constant COLLATERAL = 10e18;
    uint32 internal constant MAX_DOWNTIME = 5 minutes;
    uint32 internal constant UNSUB_NOTICE = 1 hours;
    uint32 internal constant CLOSE_NOTICE = 2 hours;
    uint32 internal constant COMMIT_WINDOW = 10 minutes;
    uint32 internal constant REVEAL_WINDOW = 10 minutes;
    uint256 internal constant BOND = 4e18;
    uint256 internal constant DEPOSIT = 100e18;
    string internal constant EVIDENCE = "https://gateway.example/disputes/evidence.json";
    /// @dev sha256("model.gguf"), as a literal (see MarketFixture).
    bytes32 internal constant MODEL_HASH = 0xc0549eba81e0af46821d2fa5d6190d76cd812fb69a2f9be876b09d88c5f6e554;

    OGPUToken internal token;
    ProviderRegistry internal registry;
    IStreamMarket internal market;

    address internal admin;
    address internal client;
    uint256 internal clientKey;
    address internal stranger;
    uint256 internal strangerKey;
    address[] internal providers;
    mapping(address => uint256) internal keyOf;

    function setUp() public virtual {
        _deploy(8);
    }

    function _deploy(uint256 providerCount) internal {
        vm.warp(START);
        vm.roll(START_BLOCK);
        admin = makeAddr("admin");
        (client, clientKey) = makeAddrAndKey("client");
        (stranger, strangerKey) = makeAddrAndKey("stranger");
        token = new OGPUToken(admin);
        registry = new ProviderRegistry(token, UNBONDING, admin);
        market = _deployMarket(_defaultConfig());
        vm.startPrank(admin);
        registry.grantRole(registry.MARKET_ROLE(), address(market));
        token.mint(client, FUNDS);
        token.mint(stranger, FUNDS);
        vm.stopPrank();
        vm.prank(client);
        token.approve(address(market), type(uint256).max);
        vm.prank(stranger);
        token.approve(address(market), type(uint256).max);
        for (uint256 i; i < providerCount; ++i) {
            _addProvider(string.concat("sprovider", vm.toString(i)));
        }
        // A dispute's council is drawn from the pool as of the block before its draw block: let
        // the providers' pool membership be history before anything is disputed.
        vm.roll(START_BLOCK + 1);
    }

    function _addProvider(string memory name) internal returns (address p) {
        uint256 key;
        (p, key) = makeAddrAndKey(name);
        keyOf[p] = key;
        providers.push(p);
        _fundProvider(p, STAKE);
    }

    function _deployMarket(IStreamMarket.Config memory cfg) internal returns (IStreamMarket) {
        return IStreamMarket(vm.deployCode("StreamMarket.sol:StreamMarket", abi.encode(token, registry, admin, cfg)));
    }

    function _fundProvider(address p, uint256 stakeAmount) internal {
        vm.prank(admin);
        token.mint(p, FUNDS);
        vm.startPrank(p);
        token.approve(address(registry), type(uint256).max);
        registry.stake(stakeAmount);
        registry.register("https://gpu.example:8443", keccak256(bytes(vm.toString(p))));
        registry.joinCouncil(MODEL_HASH);
        vm.stopPrank();
    }

    function _defaultConfig() internal pure returns (IStreamMarket.Config memory) {
        return IStreamMarket.Config({
            maxCouncilSize: 16,
            nonRevealSlashBps: 1_000, // 10% of the collateral per unrevealed verdict
            voterRewardBps: 5_000, // half of a slash (or of a bond) to the majority voters
            minCollateral: 1e18,
            minDisputeBond: 1e18,
            minNotice: 1 minutes,
            maxNotice: 30 days,
            minVerdictWindow: 1 minutes,
            maxVerdictWindow: 7 days
        });
    }

    function _params() internal pure returns (IStreamMarket.StreamParams memory) {
        return IStreamMarket.StreamParams({
            modelHash: MODEL_HASH,
            specHash: keccak256("terms"),
            specUri: "https://specs.example/stream.yaml",
            pricePerKTokenGenerated: PRICE_GEN,
            pricePerKTokenVerified: PRICE_VER,
            councilSize: COUNCIL,
            responseMethod: IStreamMarket.ResponseMethod.Optimistic,
            weightBps: 0,
            collateral: COLLATERAL,
            maxDowntime: MAX_DOWNTIME,
            unsubscribeNotice: UNSUB_NOTICE,
            closeNotice: CLOSE_NOTICE,
            commitWindow: COMMIT_WINDOW,
            revealWindow: REVEAL_WINDOW,
            disputeBond: BOND,
            deposit: DEPOSIT
        });
    }

    // ------------------------------------------------------------------ EIP-712 (independent)

    function _domainSeparator(address verifyingContract) internal view returns (bytes32) {
        return keccak256(
            abi.encode(DOMAIN_TYPEHASH, keccak256("ogpu"), keccak256("1"), block.chainid, verifyingContract)
        );
    }

    function _voucherDigest(uint256 streamId, address provider, uint256 cumulative) internal view returns (bytes32) {
        bytes32 structHash = keccak256(abi.encode(keccak256(bytes(VOUCHER_TYPE)), streamId, provider, cumulative));
        return keccak256(abi.encodePacked("\x19\x01", _domainSeparator(address(market)), structHash));
    }

    function _receiptDigest(IStreamMarket.Receipt memory r) internal view returns (bytes32) {
        bytes32 structHash = keccak256(
            abi.encode(
                keccak256(bytes(RECEIPT_TYPE)), r.streamId, r.requestId, r.responseHash, r.promptTokens, r.completionTokens
            )
        );
        return keccak256(abi.encodePacked("\x19\x01", _domainSeparator(address(market)), structHash));
    }

    function _sign(uint256 key, bytes32 digest) internal pure returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(key, digest);
        return abi.encodePacked(r, s, v);
    }

    /// @dev The client's voucher for `provider` on `streamId`.
    function _voucher(uint256 streamId, address provider, uint256 cumulative) internal view returns (bytes memory) {
        return _sign(clientKey, _voucherDigest(streamId, provider, cumulative));
    }

    function _receipt(uint256 streamId, bytes32 requestId) internal pure returns (IStreamMarket.Receipt memory) {
        return IStreamMarket.Receipt({
            streamId: streamId,
            requestId: requestId,
            responseHash: keccak256(abi.encode("response", requestId)),
            promptTokens: 120,
            completionTokens: 512
        });
    }

    /// @dev `provider`'s signature of a receipt.
    function _signReceipt(address provider, IStreamMarket.Receipt memory r) internal view returns (bytes memory) {
        return _sign(keyOf[provider], _receiptDigest(r));
    }

    // ------------------------------------------------------------------ actions

    function _create(IStreamMarket.StreamParams memory p) internal returns (uint256 streamId) {
        vm.prank(client);
        streamId = market.create(p);
    }

    function _create() internal returns (uint256) {
        return _create(_params());
    }

    function _subscribe(uint256 streamId, address provider) internal {
        vm.prank(provider);
        market.subscribe(streamId);
    }

    /// @dev A default stream with providers 0..n-1 subscribed in order.
    function _streamWith(uint256 n) internal returns (uint256 streamId) {
        streamId = _create();
        for (uint256 i; i < n; ++i) {
            _subscribe(streamId, providers[i]);
        }
    }

    function _redeem(uint256 streamId, address provider, uint256 cumulative) internal returns (uint256 paid) {
        bytes memory sig = _voucher(streamId, provider, cumulative);
        vm.prank(provider);
        paid = market.redeem(streamId, cumulative, sig);
    }

    /// @dev The client opens a dispute of `provider`'s receipt for `requestId` (state Seating:
    ///      its council is not drawn yet).
    function _openDispute(uint256 streamId, address provider, bytes32 requestId) internal returns (uint256 disputeId) {
        IStreamMarket.Receipt memory r = _receipt(streamId, requestId);
        bytes memory sig = _signReceipt(provider, r);
        vm.prank(client);
        disputeId = market.openDispute(provider, r, sig, EVIDENCE);
    }

    /// @dev Seats the dispute's council in the next block (time does not move); returns it
    ///      (empty when the pool could not seat a full council and the dispute was dropped).
    function _seat(uint256 disputeId) internal returns (address[] memory council) {
        vm.roll(block.number + 1);
        market.seatDispute(disputeId);
        council = market.getDispute(disputeId).council;
    }

    /// @dev The client disputes `provider`'s receipt for `requestId`, and the council is seated
    ///      from the pool in the next block (the commit window starts then, at the same time).
    function _dispute(uint256 streamId, address provider, bytes32 requestId) internal returns (uint256 disputeId) {
        disputeId = _openDispute(streamId, provider, requestId);
        _seat(disputeId);
    }

    /// @dev The council seatDispute draws now for a dispute waiting to be seated, from the
    ///      documented rule: the registry's stake-weighted draw over the stream model's pool as of
    ///      drawBlock - 1, seed keccak256(abi.encode(blockhash(drawBlock), disputeId)), the accused,
    ///      the disputer and the client excluded, members without the collateral free skipped.
    function _expectedCouncil(uint256 disputeId) internal view returns (address[] memory) {
        IStreamMarket.Dispute memory d = market.getDispute(disputeId);
        IStreamMarket.Stream memory s = market.getStream(d.streamId);
        address[] memory exclude = new address[](3);
        (exclude[0], exclude[1], exclude[2]) = (d.provider, d.disputer, s.client);
        bytes32 seed = keccak256(abi.encode(blockhash(d.drawBlock), disputeId));
        return registry.drawBackedCouncil(s.modelHash, d.drawBlock - 1, seed, s.councilSize, exclude, s.collateral);
    }

    /// @dev Whether `a` is in `list`.
    function _in(address[] memory list, address a) internal pure returns (bool) {
        for (uint256 i; i < list.length; ++i) {
            if (list[i] == a) return true;
        }
        return false;
    }

    /// @dev `who` leaves the pool of MODEL_HASH.
    function _leavePool(address who) internal {
        vm.prank(who);
        registry.leaveCouncil(MODEL_HASH);
    }

    /// @dev The commitment a council member submits (IStreamMarket.commitVerdict's formula).
    function _verdictCommitment(uint256 disputeId, bool accept, bytes32 salt, address voter)
        internal
        view
        returns (bytes32)
    {
        return keccak256(abi.encode(block.chainid, address(market), disputeId, accept, salt, voter));
    }

    function _salt(address voter, uint256 disputeId) internal pure returns (bytes32) {
        return keccak256(abi.encode("salt", voter, disputeId));
    }

    function _commitVote(uint256 disputeId, address voter, bool accept) internal {
        bytes32 c = _verdictCommitment(disputeId, accept, _salt(voter, disputeId), voter);
        vm.prank(voter);
        market.commitVerdict(disputeId, c);
    }

    function _reveal(uint256 disputeId, address voter, bool accept) internal {
        vm.prank(voter);
        market.revealVerdict(disputeId, accept, _salt(voter, disputeId));
    }

    /// @dev Every council member votes `accept` (commit, then reveal).
    function _voteAll(uint256 disputeId, bool accept) internal {
        address[] memory council = market.getDispute(disputeId).council;
        for (uint256 i; i < council.length; ++i) {
            _commitVote(disputeId, council[i], accept);
        }
        for (uint256 i; i < council.length; ++i) {
            _reveal(disputeId, council[i], accept);
        }
    }

    // ------------------------------------------------------------------ reads

    function _stream(uint256 streamId) internal view returns (IStreamMarket.Stream memory) {
        return market.getStream(streamId);
    }

    /// @dev The stream's allowances left, summed over its subscribers (the only accounts holding one).
    function _reserved(uint256 streamId) internal view returns (uint256 total) {
        address[] memory subs = market.subscribersOf(streamId);
        for (uint256 i; i < subs.length; ++i) {
            total += market.subscription(streamId, subs[i]).allowance;
        }
    }

    function _locked(address p) internal view returns (uint256) {
        return registry.stakeOf(p).locked;
    }

    function _staked(address p) internal view returns (uint256) {
        return registry.stakeOf(p).staked;
    }

    function _access() internal view returns (IAccessControl) {
        return IAccessControl(address(market));
    }

    function _signPermit(uint256 key, address owner, address spender, uint256 value, uint256 deadline)
        internal
        view
        returns (uint8 v, bytes32 r, bytes32 s)
    {
        bytes32 structHash =
            keccak256(abi.encode(PERMIT_TYPEHASH, owner, spender, value, token.nonces(owner), deadline));
        bytes32 digest = keccak256(abi.encodePacked("\x19\x01", token.DOMAIN_SEPARATOR(), structHash));
        (v, r, s) = vm.sign(key, digest);
    }
}
