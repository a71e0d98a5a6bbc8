// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";

import {Test} from "./Test.sol";
import {OGPUToken} from "../../src/OGPUToken.sol";
import {ProviderRegistry} from "../../src/ProviderRegistry.sol";
import {ITaskMarket} from "../../src/interfaces/ITaskMarket.sol";
import {IProviderRegistry} from "../../src/interfaces/IProviderRegistry.sol";

/// @notice Token, registry and TaskMarket deployed and wired (the market holds MARKET_ROLE),
///         a funded client and registered, staked providers.
/// @dev TaskMarket is compiled via IR (foundry.toml): it is deployed from its artifact and used
///      through ITaskMarket only, never imported.
abstract contract MarketFixture is Test {
    bytes32 internal constant PERMIT_TYPEHASH =
        keccak256("Permit(address owner,address spender,uint256 value,uint256 nonce,uint256 deadline)");
    uint256 internal constant START = 1_700_000_000;
    uint256 internal constant START_BLOCK = 1_000;
    uint256 internal constant FUNDS = 100_000e18;
    uint256 internal constant STAKE = 1_000e18;
    uint64 internal constant UNBONDING = 1 days;

    // default task
    uint32 internal constant ITEMS = 10;
    uint8 internal constant CHECKPOINTS = 2;
    uint8 internal constant COUNCIL = 2;
    uint8 internal constant MAX_BIDS = 4;
    uint256 internal constant MAX_PRICE = 100e18;
    uint256 internal constant FEE = 1e18;
    uint256 internal constant COLLATERAL = 10e18;
    uint32 internal constant BIDDING = 1 hours;
    uint32 internal constant CK_WINDOW = 1 hours;
    uint32 internal constant COMMIT_WINDOW = 10 minutes;
    uint32 internal constant REVEAL_WINDOW = 10 minutes;
    bytes32 internal constant ROOT = keccak256("result root");
    /// @dev sha256("model.gguf"), as a literal: a sha256 call would be a precompile call, which
    ///      vm.prank / vm.expectRevert would take for "the next call".
    bytes32 internal constant MODEL_HASH = 0xc0549eba81e0af46821d2fa5d6190d76cd812fb69a2f9be876b09d88c5f6e554;

    OGPUToken internal token;
    ProviderRegistry internal registry;
    ITaskMarket internal market;

    address internal admin;
    address internal client;
    uint256 internal clientKey;
    address internal stranger;
    address[] internal providers;

    function setUp() public virtual {
        _deploy(8);
    }

    function _deploy(uint256 providerCount) internal {
        vm.warp(START);
        vm.roll(START_BLOCK);
        vm.prevrandao(bytes32(uint256(0xbeef)));
        admin = makeAddr("admin");
        (client, clientKey) = makeAddrAndKey("client");
        stranger = makeAddr("stranger");
        token = new OGPUToken(admin);
        registry = new ProviderRegistry(token, UNBONDING, admin);
        market = _deployMarket(_defaultConfig());
        vm.startPrank(admin);
        registry.grantRole(registry.MARKET_ROLE(), address(market));
        token.mint(client, FUNDS);
        vm.stopPrank();
        vm.prank(client);
        token.approve(address(market), type(uint256).max);
        for (uint256 i; i < providerCount; ++i) {
            address p = makeAddr(string.concat("provider", vm.toString(i)));
            providers.push(p);
            _fundProvider(p, STAKE);
        }
        // The council pool is read as of the block before a task's draw block: let the
        // providers' pool membership be history before anything is assigned.
        vm.roll(START_BLOCK + 1);
    }

    function _deployMarket(ITaskMarket.Config memory cfg) internal returns (ITaskMarket) {
        return ITaskMarket(vm.deployCode("TaskMarket.sol:TaskMarket", abi.encode(token, registry, admin, cfg)));
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

    function _defaultConfig() internal pure returns (ITaskMarket.Config memory) {
        return ITaskMarket.Config({
            maxBids: 64,
            maxCouncilSize: 15,
            maxCheckpoints: 32,
            nonRevealSlashBps: 1_000, // 10% of the collateral per unrevealed verdict
            slashRewardBps: 5_000, // half of a rejected executor's collateral to the reject voters
            minCollateral: 1e18,
            minBiddingWindow: 1 minutes,
            maxBiddingWindow: 7 days,
            minCheckpointWindow: 1 minutes,
            maxCheckpointWindow: 30 days,
            minVerdictWindow: 1 minutes,
            maxVerdictWindow: 7 days,
            minOpenTime: 0 // TaskMarketEvict.t.sol sets its own
        });
    }

    function _params() internal pure returns (ITaskMarket.TaskParams memory) {
        return ITaskMarket.TaskParams({
            specHash: keccak256("spec"),
            specUri: "https://specs.example/task.yaml",
            dataRoot: keccak256("data"),
            modelHash: MODEL_HASH,
            itemCount: ITEMS,
            checkpoints: CHECKPOINTS,
            councilSize: COUNCIL,
            maxBids: MAX_BIDS,
            maxPrice: MAX_PRICE,
            councilFeePerVote: FEE,
            collateral: COLLATERAL,
            biddingWindow: BIDDING,
            checkpointWindow: CK_WINDOW,
            commitWindow: COMMIT_WINDOW,
            revealWindow: REVEAL_WINDOW,
            softDeadline: 0,
            hardDeadline: 0
        });
    }

    function _escrowOf(ITaskMarket.TaskParams memory p) internal pure returns (uint256) {
        return p.maxPrice + p.councilFeePerVote * p.councilSize * p.checkpoints;
    }

    // ------------------------------------------------------------------ actions

    function _submit(ITaskMarket.TaskParams memory p) internal returns (uint256 taskId) {
        vm.prank(client);
        taskId = market.submit(p);
    }

    function _submit() internal returns (uint256) {
        return _submit(_params());
    }

    function _bid(uint256 taskId, address provider, uint256 price) internal {
        vm.prank(provider);
        market.bid(taskId, price);
    }

    /// @dev Providers 0..n-1 bid prices[i].
    function _bids(uint256 taskId, uint256[] memory prices) internal {
        for (uint256 i; i < prices.length; ++i) {
            _bid(taskId, providers[i], prices[i]);
        }
    }

    /// @dev A default task with `n` bids: provider i bids 90 - i (the last one is best) unless
    ///      `lowestFirst` (provider 0 bids 50, the others 60 + i).
    function _openTaskWithBids(uint256 n, bool lowestFirst) internal returns (uint256 taskId) {
        ITaskMarket.TaskParams memory p = _params();
        p.maxBids = uint8(n < 3 ? 3 : n);
        p.councilSize = uint8(n - 1 < COUNCIL ? n - 1 : COUNCIL);
        if (p.councilSize == 0) p.councilSize = 1;
        taskId = _submit(p);
        for (uint256 i; i < n; ++i) {
            _bid(taskId, providers[i], lowestFirst ? (i == 0 ? 50e18 : 60e18 + i * 1e18) : 90e18 - i * 1e18);
        }
    }

    /// @dev A task with `council + 1` bids (maxBids reached), provider 0 the cheapest
    ///      (executor), assigned, and its council seated from the pool in the next block.
    ///      Returns the council seat by seat.
    function _assignedTask(ITaskMarket.TaskParams memory p) internal returns (uint256 taskId, address[] memory council) {
        p.maxBids = p.councilSize + 1;
        taskId = _submit(p);
        _bid(taskId, providers[0], 50e18);
        for (uint256 i = 1; i <= p.councilSize; ++i) {
            _bid(taskId, providers[i], 60e18 + i);
        }
        market.assign(taskId);
        council = _seat(taskId);
    }

    /// @dev Seats the task's council in the next block; returns it.
    function _seat(uint256 taskId) internal returns (address[] memory council) {
        vm.roll(block.number + 1);
        market.seatCouncil(taskId);
        council = market.councilOf(taskId);
    }

    function _assignedTask() internal returns (uint256 taskId, address[] memory council) {
        return _assignedTask(_params());
    }

    function _executor() internal view returns (address) {
        return providers[0];
    }

    function _commit(uint256 taskId, uint256 k) internal {
        vm.prank(_executor());
        market.commitCheckpoint(taskId, k, ROOT);
    }

    function _salt(address voter, uint256 k) internal pure returns (bytes32) {
        return keccak256(abi.encode("salt", voter, k));
    }

    function _commitVote(uint256 taskId, uint256 k, address voter, bool accept) internal {
        bytes32 c = market.verdictCommitment(taskId, k, accept, _salt(voter, k), voter);
        vm.prank(voter);
        market.commitVerdict(taskId, k, c);
    }

    function _reveal(uint256 taskId, uint256 k, address voter, bool accept) internal {
        vm.prank(voter);
        market.revealVerdict(taskId, k, accept, _salt(voter, k));
    }

    /// @dev Every council member votes `accept` (commit, then reveal), then anyone finalizes.
    function _passCheckpoint(uint256 taskId, uint256 k, address[] memory council, bool accept) internal {
        for (uint256 i; i < council.length; ++i) {
            _commitVote(taskId, k, council[i], accept);
        }
        for (uint256 i; i < council.length; ++i) {
            _reveal(taskId, k, council[i], accept);
        }
        market.finalizeCheckpoint(taskId, k);
    }

    // ------------------------------------------------------------------ reads

    /// @dev The council `seatCouncil` draws now for a task assigned (or re-drawn) in block
    ///      `drawBlock`, from the documented rule: the registry's stake-weighted draw over the
    ///      model's pool as of drawBlock - 1, seed keccak256(abi.encode(blockhash(drawBlock),
    ///      taskId)), the executor and the client excluded, members without the collateral free skipped.
    function _expectedCouncil(uint256 taskId, uint256 drawBlock) internal view returns (address[] memory) {
        ITaskMarket.Task memory t = market.getTask(taskId);
        address[] memory exclude = new address[](2);
        exclude[0] = t.executor;
        exclude[1] = t.client;
        bytes32 seed = keccak256(abi.encode(blockhash(drawBlock), taskId));
        return registry.drawBackedCouncil(t.modelHash, drawBlock - 1, seed, t.councilSize, exclude, t.collateral);
    }

    function _task(uint256 taskId) internal view returns (ITaskMarket.Task memory) {
        return market.getTask(taskId);
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
