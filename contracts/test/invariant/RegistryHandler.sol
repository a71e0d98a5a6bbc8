// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {CommonBase} from "../utils/Test.sol";
import {FakeMarket} from "../utils/FakeMarket.sol";
import {OGPUToken} from "../../src/OGPUToken.sol";
import {ProviderRegistry} from "../../src/ProviderRegistry.sol";
import {IProviderRegistry} from "../../src/interfaces/IProviderRegistry.sol";

/// @notice Drives the registry for the invariant campaign: stakers (stake, permit-stake,
///         unstake, cancel, claim, register, update, deregister), two fake markets holding
///         MARKET_ROLE (lock, unlock, slash), the admin (mint, unbonding period) and time.
///         Inputs are bounded and impossible actions are skipped, so the campaign runs with
///         fail_on_revert: any revert is a bug. Ghost variables record every token movement.
contract RegistryHandler is CommonBase {
    bytes32 internal constant PERMIT_TYPEHASH =
        keccak256("Permit(address owner,address spender,uint256 value,uint256 nonce,uint256 deadline)");
    uint256 internal constant ACTORS = 5;

    OGPUToken public immutable token;
    ProviderRegistry public immutable registry;
    address public immutable admin;
    address public immutable slashRecipient;
    FakeMarket[2] public markets;

    address[] public actors;
    uint256[] internal keys;

    /// @notice The time the campaign has reached (vm.warp does not carry over between calls).
    uint256 public currentTime;

    // ghosts: per actor
    mapping(address => uint256) public ghostMinted;
    mapping(address => uint256) public ghostDeposited;
    mapping(address => uint256) public ghostRequested;
    mapping(address => uint256) public ghostCancelled;
    mapping(address => uint256) public ghostClaimed;
    mapping(address => uint256) public ghostSlashed;
    // ghosts: totals
    uint256 public ghostTotalDeposited;
    uint256 public ghostTotalClaimed;
    uint256 public ghostTotalSlashed;
    /// @notice Set if a second claim of the same bucket ever succeeded.
    bool public ghostDoubleClaim;
    /// @notice Set if a claim before the bucket's end ever succeeded.
    bool public ghostEarlyClaim;
    /// @notice Set if unstaking or locking more than the free stake ever succeeded.
    bool public ghostGuardBroken;

    mapping(bytes32 => uint256) public calls;

    constructor(OGPUToken token_, ProviderRegistry registry_, address admin_, FakeMarket[2] memory markets_) {
        token = token_;
        registry = registry_;
        admin = admin_;
        markets = markets_;
        slashRecipient = makeAddr("slashRecipient");
        for (uint256 i; i < ACTORS; ++i) {
            (address a, uint256 k) = makeAddrAndKey(string.concat("actor", vm.toString(i)));
            actors.push(a);
            keys.push(k);
        }
        currentTime = block.timestamp;
    }

    modifier useTime() {
        vm.warp(currentTime);
        _;
    }

    modifier count(bytes32 name) {
        calls[name]++;
        _;
    }

    function actorCount() external view returns (uint256) {
        return actors.length;
    }

    function _actor(uint256 seed) internal view returns (address a, uint256 key) {
        uint256 i = seed % actors.length;
        return (actors[i], keys[i]);
    }

    function _market(uint256 seed) internal view returns (FakeMarket) {
        return markets[seed % 2];
    }

    // ------------------------------------------------------------------ admin / time

    function mint(uint256 actorSeed, uint256 amount) external useTime count("mint") {
        (address a,) = _actor(actorSeed);
        uint256 room = token.cap() - token.totalSupply();
        amount = bound(amount, 0, room < 50_000e18 ? room : 50_000e18);
        if (amount == 0) return;
        vm.prank(admin);
        token.mint(a, amount);
        ghostMinted[a] += amount;
    }

    function warp(uint256 secs) external count("warp") {
        currentTime += bound(secs, 0, 2 * uint256(registry.unbondingPeriod()) + 1);
    }

    function setUnbondingPeriod(uint256 period) external useTime count("setUnbondingPeriod") {
        vm.prank(admin);
        registry.setUnbondingPeriod(uint64(bound(period, 0, 3 days)));
    }

    // ------------------------------------------------------------------ stakers

    function stake(uint256 actorSeed, uint256 amount) external useTime count("stake") {
        (address a,) = _actor(actorSeed);
        amount = bound(amount, 0, token.balanceOf(a));
        if (amount == 0) return;
        vm.startPrank(a);
        token.approve(address(registry), amount);
        registry.stake(amount);
        vm.stopPrank();
        _deposited(a, amount);
    }

    function stakeWithPermit(uint256 actorSeed, uint256 amount, bool frontRun) external useTime count("stakeWithPermit") {
        (address a, uint256 key) = _actor(actorSeed);
        amount = bound(amount, 0, token.balanceOf(a));
        if (amount == 0) return;
        uint256 deadline = block.timestamp + 1 hours;
        bytes32 structHash =
            keccak256(abi.encode(PERMIT_TYPEHASH, a, address(registry), amount, token.nonces(a), deadline));
        (uint8 v, bytes32 r, bytes32 s) =
            vm.sign(key, keccak256(abi.encodePacked("\x19\x01", token.DOMAIN_SEPARATOR(), structHash)));
        if (frontRun) token.permit(a, address(registry), amount, deadline, v, r, s);
        vm.prank(a);
        registry.stakeWithPermit(amount, deadline, v, r, s);
        _deposited(a, amount);
    }

    function requestUnstake(uint256 actorSeed, uint256 amount) external useTime count("requestUnstake") {
        (address a,) = _actor(actorSeed);
        IProviderRegistry.StakeInfo memory si = registry.stakeOf(a);
        // up to the whole stake: asking for locked stake must fail
        amount = bound(amount, 0, si.staked);
        if (amount == 0) return;
        vm.prank(a);
        if (amount > si.staked - si.locked) {
            try registry.requestUnstake(amount) {
                ghostGuardBroken = true;
            } catch {}
            return;
        }
        registry.requestUnstake(amount);
        ghostRequested[a] += amount;
    }

    function cancelUnstake(uint256 actorSeed) external useTime count("cancelUnstake") {
        (address a,) = _actor(actorSeed);
        uint256 bucket = registry.stakeOf(a).unbonding;
        if (bucket == 0) return;
        vm.prank(a);
        registry.cancelUnstake();
        ghostCancelled[a] += bucket;
    }

    function claim(uint256 actorSeed) external useTime count("claim") {
        (address a,) = _actor(actorSeed);
        IProviderRegistry.StakeInfo memory si = registry.stakeOf(a);
        if (si.unbonding == 0) return;
        if (block.timestamp < si.unbondingEnd) {
            // an early claim must fail
            vm.prank(a);
            try registry.claim() {
                ghostEarlyClaim = true;
            } catch {}
            return;
        }
        uint256 before = token.balanceOf(a);
        vm.prank(a);
        registry.claim();
        uint256 paid = token.balanceOf(a) - before;
        ghostClaimed[a] += paid;
        ghostTotalClaimed += paid;
        // the same bucket cannot be claimed again
        vm.prank(a);
        try registry.claim() {
            ghostDoubleClaim = true;
        } catch {}
    }

    function register(uint256 actorSeed, bytes32 info) external useTime count("register") {
        (address a,) = _actor(actorSeed);
        if (registry.isRegistered(a)) return;
        vm.prank(a);
        registry.register("http://127.0.0.1:8080", info);
    }

    function updateProvider(uint256 actorSeed, bytes32 info) external useTime count("updateProvider") {
        (address a,) = _actor(actorSeed);
        if (!registry.isRegistered(a)) return;
        vm.prank(a);
        registry.updateProvider("http://127.0.0.1:9090", info);
    }

    function deregister(uint256 actorSeed) external useTime count("deregister") {
        (address a,) = _actor(actorSeed);
        if (!registry.isRegistered(a) || registry.stakeOf(a).locked != 0) return;
        vm.prank(a);
        registry.deregister();
    }

    // ------------------------------------------------------------------ markets

    function lock(uint256 actorSeed, uint256 marketSeed, uint256 amount) external useTime count("lock") {
        (address a,) = _actor(actorSeed);
        uint256 free = registry.freeStakeOf(a);
        // up to free + 1: locking more than the free stake must fail
        amount = bound(amount, 0, free + 1);
        if (amount == 0) return;
        if (amount > free) {
            try _market(marketSeed).lock(a, amount) {
                ghostGuardBroken = true;
            } catch {}
            return;
        }
        _market(marketSeed).lock(a, amount);
    }

    function bid(uint256 actorSeed, uint256 marketSeed, uint256 amount) external useTime count("bid") {
        (address a,) = _actor(actorSeed);
        amount = bound(amount, 0, registry.freeStakeOf(a));
        if (amount == 0 || !registry.isRegistered(a)) return;
        _market(marketSeed).bid(a, amount);
    }

    function unlock(uint256 actorSeed, uint256 marketSeed, uint256 amount) external useTime count("unlock") {
        (address a,) = _actor(actorSeed);
        FakeMarket m = _market(marketSeed);
        amount = bound(amount, 0, m.lockedBy(a));
        if (amount == 0) return;
        m.unlock(a, amount);
    }

    function slash(uint256 actorSeed, uint256 marketSeed, uint256 amount) external useTime count("slash") {
        (address a,) = _actor(actorSeed);
        FakeMarket m = _market(marketSeed);
        amount = bound(amount, 0, m.lockedBy(a));
        if (amount == 0) return;
        uint256 slashed = m.slash(a, amount, slashRecipient);
        ghostSlashed[a] += slashed;
        ghostTotalSlashed += slashed;
    }

    // ------------------------------------------------------------------ helpers

    function _deposited(address a, uint256 amount) internal {
        ghostDeposited[a] += amount;
        ghostTotalDeposited += amount;
    }

    /// @notice The selectors the campaign calls.
    function selectors() external pure returns (bytes4[] memory s) {
        s = new bytes4[](15);
        s[0] = this.mint.selector;
        s[1] = this.warp.selector;
        s[2] = this.setUnbondingPeriod.selector;
        s[3] = this.stake.selector;
        s[4] = this.stakeWithPermit.selector;
        s[5] = this.requestUnstake.selector;
        s[6] = this.cancelUnstake.selector;
        s[7] = this.claim.selector;
        s[8] = this.register.selector;
        s[9] = this.updateProvider.selector;
        s[10] = this.deregister.selector;
        s[11] = this.lock.selector;
        s[12] = this.bid.selector;
        s[13] = this.unlock.selector;
        s[14] = this.slash.selector;
    }
}
