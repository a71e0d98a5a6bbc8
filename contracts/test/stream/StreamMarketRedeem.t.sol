// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";

import {StreamFixture} from "../utils/StreamFixture.sol";
import {MockERC20} from "../utils/MockERC20.sol";
import {MockWallet} from "../utils/MockWallet.sol";
import {ProviderRegistry} from "../../src/ProviderRegistry.sol";
import {IStreamMarket} from "../../src/interfaces/IStreamMarket.sol";

/// @notice Vouchers: redeem and redeemMany, partial payment from a short deposit, signature
///         checks (wrong signer, provider, stream, market, malformed, malleable), ERC-1271
///         clients, reentrancy, and fuzzed voucher amounts and orders.
contract StreamMarketRedeemTest is StreamFixture {
    /// @dev secp256k1 group order: s and n - s are both valid ECDSA signatures of a digest.
    uint256 internal constant SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141;

    uint256 internal id;
    address internal p0;
    address internal p1;

    function setUp() public override {
        super.setUp();
        id = _streamWith(3);
        p0 = providers[0];
        p1 = providers[1];
    }

    function _notIncreasing(uint256 streamId, address p, uint256 cumulative, uint256 done)
        internal
        pure
        returns (bytes memory)
    {
        return abi.encodeWithSelector(
            IStreamMarket.StreamMarketCumulativeNotIncreasing.selector, streamId, p, cumulative, done
        );
    }

    function _badSig(uint256 streamId, address p, uint256 cumulative) internal pure returns (bytes memory) {
        return abi.encodeWithSelector(IStreamMarket.StreamMarketInvalidVoucherSignature.selector, streamId, p, cumulative);
    }

    function _redeemWith(address p, uint256 streamId, uint256 cumulative, bytes memory sig) internal returns (uint256) {
        vm.prank(p);
        return market.redeem(streamId, cumulative, sig);
    }

    // ================================================================== redeem

    function test_redeem_paysAndEmits() public {
        uint256 before = token.balanceOf(p0);
        bytes memory sig = _voucher(id, p0, 3e18);
        vm.expectEmit(address(market));
        emit IStreamMarket.VoucherRedeemed(id, p0, 3e18, 3e18, 3e18, 0, DEPOSIT - 3e18);
        vm.expectEmit(address(token));
        emit IERC20.Transfer(address(market), p0, 3e18);
        uint256 paid = _redeemWith(p0, id, 3e18, sig);
        vm.assertEq(paid, 3e18);
        vm.assertEq(token.balanceOf(p0), before + 3e18);
        vm.assertEq(market.redeemed(id, p0), 3e18);
        vm.assertEq(_stream(id).deposit, DEPOSIT - 3e18);
        vm.assertEq(token.balanceOf(address(market)), DEPOSIT - 3e18);
    }

    function test_redeem_successiveVouchersPayTheDifference() public {
        vm.assertEq(_redeem(id, p0, 1e18), 1e18);
        vm.assertEq(_redeem(id, p0, 1e18 + 1), 1);
        vm.expectEmit(address(market));
        emit IStreamMarket.VoucherRedeemed(id, p0, 5e18, 5e18 - 1e18 - 1, 5e18, 0, DEPOSIT - 5e18);
        vm.assertEq(_redeem(id, p0, 5e18), 4e18 - 1);
        vm.assertEq(market.redeemed(id, p0), 5e18);
    }

    function test_redeem_latestVoucherOnly() public {
        // the client signed 1, 2, ..., 1000 (one per response); the provider redeems the last one
        vm.assertEq(_redeem(id, p0, 1000e15), 1000e15);
        // older vouchers are worthless now
        bytes memory old = _voucher(id, p0, 999e15);
        vm.expectRevert(_notIncreasing(id, p0, 999e15, 1000e15));
        _redeemWith(p0, id, 999e15, old);
    }

    function test_redeem_providersAreIndependent() public {
        _redeem(id, p0, 10e18);
        _redeem(id, p1, 4e18);
        vm.assertEq(market.redeemed(id, p0), 10e18);
        vm.assertEq(market.redeemed(id, p1), 4e18);
        vm.assertEq(_stream(id).deposit, DEPOSIT - 14e18);
    }

    function test_redeem_partialWhenDepositShortThenRestAfterTopUp() public {
        _redeem(id, p1, 90e18); // 10 left
        bytes memory sig = _voucher(id, p0, 25e18);
        vm.expectEmit(address(market));
        emit IStreamMarket.VoucherRedeemed(id, p0, 25e18, 10e18, 10e18, 0, 0);
        vm.assertEq(_redeemWith(p0, id, 25e18, sig), 10e18, "never more than the deposit");
        vm.assertEq(market.redeemed(id, p0), 10e18);
        // empty deposit: nothing to pay, by name
        vm.expectRevert(abi.encodeWithSelector(IStreamMarket.StreamMarketDepositEmpty.selector, id, 15e18));
        _redeemWith(p0, id, 25e18, sig);
        // a top-up makes the same voucher good for the rest
        vm.prank(client);
        market.topUp(id, 100e18);
        vm.assertEq(_redeemWith(p0, id, 25e18, sig), 15e18);
        vm.assertEq(market.redeemed(id, p0), 25e18);
        vm.expectRevert(_notIncreasing(id, p0, 25e18, 25e18));
        _redeemWith(p0, id, 25e18, sig);
    }

    function test_redeem_duringClosingAndAfterTheNotice() public {
        vm.prank(client);
        market.close(id);
        _redeem(id, p0, 1e18);
        vm.warp(START + CLOSE_NOTICE + 1 days);
        _redeem(id, p0, 2e18); // until someone finalizes
        market.finalizeClose(id);
        bytes memory sig = _voucher(id, p0, 3e18);
        vm.expectRevert(abi.encodeWithSelector(IStreamMarket.StreamMarketStreamClosed.selector, id));
        _redeemWith(p0, id, 3e18, sig);
    }

    function test_redeem_withoutSubscription() public {
        // a former subscriber is still owed what the client signed
        vm.prank(p0);
        market.requestUnsubscribe(id);
        vm.warp(START + UNSUB_NOTICE);
        vm.prank(p0);
        market.finishUnsubscribe(id);
        vm.assertEq(_redeem(id, p0, 2e18), 2e18);
        // and the client may pay anyone it signs for
        vm.assertEq(_redeem(id, providers[7], 1e18), 1e18);
    }

    function test_redeem_revertsOnUnknownStream() public {
        bytes memory sig = _voucher(9, p0, 1e18);
        vm.expectRevert(abi.encodeWithSelector(IStreamMarket.StreamMarketUnknownStream.selector, 9));
        _redeemWith(p0, 9, 1e18, sig);
    }

    function test_redeem_revertsOnZeroOrNotIncreasingAmount() public {
        bytes memory sig = _voucher(id, p0, 0);
        vm.expectRevert(_notIncreasing(id, p0, 0, 0));
        _redeemWith(p0, id, 0, sig);
        _redeem(id, p0, 5e18);
        sig = _voucher(id, p0, 5e18);
        vm.expectRevert(_notIncreasing(id, p0, 5e18, 5e18));
        _redeemWith(p0, id, 5e18, sig);
        sig = _voucher(id, p0, 4e18);
        vm.expectRevert(_notIncreasing(id, p0, 4e18, 5e18));
        _redeemWith(p0, id, 4e18, sig);
    }

    function test_redeem_revertsOnWrongSigner() public {
        bytes memory sig = _sign(strangerKey, _voucherDigest(id, p0, 1e18));
        vm.expectRevert(_badSig(id, p0, 1e18));
        _redeemWith(p0, id, 1e18, sig);
        // the provider cannot sign its own voucher either
        sig = _sign(keyOf[p0], _voucherDigest(id, p0, 1e18));
        vm.expectRevert(_badSig(id, p0, 1e18));
        _redeemWith(p0, id, 1e18, sig);
    }

    function test_redeem_revertsOnSomeoneElsesVoucher() public {
        bytes memory sig = _voucher(id, p0, 1e18);
        vm.expectRevert(_badSig(id, p1, 1e18));
        _redeemWith(p1, id, 1e18, sig);
    }

    function test_redeem_revertsOnTamperedAmount() public {
        bytes memory sig = _voucher(id, p0, 1e18);
        vm.expectRevert(_badSig(id, p0, 2e18));
        _redeemWith(p0, id, 2e18, sig);
    }

    function test_redeem_revertsOnAnotherStreamsVoucher() public {
        uint256 other = _create();
        bytes memory sig = _voucher(other, p0, 1e18);
        vm.expectRevert(_badSig(id, p0, 1e18));
        _redeemWith(p0, id, 1e18, sig);
    }

    function test_redeem_revertsOnAnotherMarketsVoucher() public {
        IStreamMarket other = _deployMarket(_defaultConfig());
        bytes32 structHash = keccak256(abi.encode(keccak256(bytes(VOUCHER_TYPE)), id, p0, 1e18));
        bytes32 foreign = keccak256(abi.encodePacked("\x19\x01", _domainSeparator(address(other)), structHash));
        bytes memory sig = _sign(clientKey, foreign);
        vm.expectRevert(_badSig(id, p0, 1e18));
        _redeemWith(p0, id, 1e18, sig);
        // and another chain's
        uint256 chain = block.chainid;
        vm.chainId(chain + 1);
        sig = _voucher(id, p0, 1e18);
        vm.chainId(chain);
        vm.expectRevert(_badSig(id, p0, 1e18));
        _redeemWith(p0, id, 1e18, sig);
    }

    function test_redeem_revertsOnMalformedSignatures() public {
        bytes memory good = _voucher(id, p0, 1e18);
        bytes memory short = new bytes(64);
        for (uint256 i; i < 64; ++i) {
            short[i] = good[i];
        }
        vm.expectRevert(_badSig(id, p0, 1e18));
        _redeemWith(p0, id, 1e18, short);
        vm.expectRevert(_badSig(id, p0, 1e18));
        _redeemWith(p0, id, 1e18, "");
        bytes memory badV = bytes.concat(good);
        badV[64] = bytes1(uint8(29));
        vm.expectRevert(_badSig(id, p0, 1e18));
        _redeemWith(p0, id, 1e18, badV);
        vm.expectRevert(_badSig(id, p0, 1e18));
        _redeemWith(p0, id, 1e18, new bytes(65));
    }

    function test_redeem_revertsOnMalleableSignature() public {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(clientKey, _voucherDigest(id, p0, 1e18));
        bytes memory flipped = abi.encodePacked(r, bytes32(SECP256K1_N - uint256(s)), v == 27 ? uint8(28) : uint8(27));
        vm.expectRevert(_badSig(id, p0, 1e18));
        _redeemWith(p0, id, 1e18, flipped);
        _redeemWith(p0, id, 1e18, abi.encodePacked(r, s, v));
    }

    function test_redeem_contractWalletClient() public {
        (address owner, uint256 ownerKey) = makeAddrAndKey("wallet owner");
        MockWallet wallet = new MockWallet(owner);
        vm.prank(admin);
        token.mint(address(wallet), 1_000e18);
        vm.startPrank(owner);
        wallet.execute(address(token), abi.encodeCall(IERC20.approve, (address(market), type(uint256).max)));
        bytes memory ret = wallet.execute(address(market), abi.encodeCall(IStreamMarket.create, (_params())));
        vm.stopPrank();
        uint256 sid = abi.decode(ret, (uint256));
        vm.assertEq(_stream(sid).client, address(wallet));

        bytes memory sig = _sign(ownerKey, _voucherDigest(sid, p0, 2e18));
        vm.assertEq(_redeemWith(p0, sid, 2e18, sig), 2e18);
        sig = _sign(strangerKey, _voucherDigest(sid, p0, 3e18));
        vm.expectRevert(_badSig(sid, p0, 3e18));
        _redeemWith(p0, sid, 3e18, sig);
    }

    function test_redeem_revertsOnReentrancy() public {
        MockERC20 evil = new MockERC20();
        ProviderRegistry r = new ProviderRegistry(evil, UNBONDING, admin);
        IStreamMarket m = IStreamMarket(
            vm.deployCode("StreamMarket.sol:StreamMarket", abi.encode(evil, r, admin, _defaultConfig()))
        );
        evil.mint(client, 100e18);
        vm.startPrank(client);
        evil.approve(address(m), type(uint256).max);
        uint256 sid = m.create(_params());
        vm.stopPrank();
        bytes32 structHash = keccak256(abi.encode(keccak256(bytes(VOUCHER_TYPE)), sid, p0, uint256(2e18)));
        bytes32 digest = keccak256(abi.encodePacked("\x19\x01", _domainSeparator(address(m)), structHash));
        bytes memory sig2 = _sign(clientKey, digest);
        structHash = keccak256(abi.encode(keccak256(bytes(VOUCHER_TYPE)), sid, p0, uint256(1e18)));
        digest = keccak256(abi.encodePacked("\x19\x01", _domainSeparator(address(m)), structHash));
        bytes memory sig1 = _sign(clientKey, digest);
        // while the market pays, the token calls back into redeem
        evil.setHook(address(m), abi.encodeCall(IStreamMarket.redeem, (sid, 2e18, sig2)));
        vm.expectRevert(abi.encodeWithSelector(ReentrancyGuardTransient.ReentrancyGuardReentrantCall.selector));
        vm.prank(p0);
        m.redeem(sid, 1e18, sig1);
    }

    // ================================================================== redeemMany

    function _redemption(uint256 streamId, address p, uint256 cumulative)
        internal
        view
        returns (IStreamMarket.Redemption memory)
    {
        return IStreamMarket.Redemption({
            streamId: streamId,
            cumulativeAmount: cumulative,
            signature: _voucher(streamId, p, cumulative)
        });
    }

    function test_redeemMany_paysEverythingInOneTransfer() public {
        uint256 b = _streamWith(1);
        uint256 c = _streamWith(1);
        _redeem(c, p0, 1e18);
        IStreamMarket.Redemption[] memory rs = new IStreamMarket.Redemption[](4);
        rs[0] = _redemption(id, p0, 2e18);
        rs[1] = _redemption(b, p0, 3e18);
        rs[2] = _redemption(c, p0, 5e18);
        rs[3] = _redemption(id, p0, 2.5e18); // the same stream again, higher
        uint256 before = token.balanceOf(p0);
        vm.expectEmit(address(market));
        emit IStreamMarket.VoucherRedeemed(id, p0, 2e18, 2e18, 2e18, 0, DEPOSIT - 2e18);
        vm.expectEmit(address(market));
        emit IStreamMarket.VoucherRedeemed(b, p0, 3e18, 3e18, 3e18, 0, DEPOSIT - 3e18);
        vm.expectEmit(address(market));
        emit IStreamMarket.VoucherRedeemed(c, p0, 5e18, 4e18, 5e18, 0, DEPOSIT - 5e18);
        vm.expectEmit(address(market));
        emit IStreamMarket.VoucherRedeemed(id, p0, 2.5e18, 0.5e18, 2.5e18, 0, DEPOSIT - 2.5e18);
        vm.expectEmit(address(token));
        emit IERC20.Transfer(address(market), p0, 9.5e18);
        vm.prank(p0);
        uint256 paid = market.redeemMany(rs);
        vm.assertEq(paid, 9.5e18);
        vm.assertEq(token.balanceOf(p0), before + 9.5e18);
        vm.assertEq(market.redeemed(id, p0), 2.5e18);
        vm.assertEq(market.redeemed(b, p0), 3e18);
        vm.assertEq(market.redeemed(c, p0), 5e18);
    }

    function test_redeemMany_upTo32() public {
        IStreamMarket.Redemption[] memory rs = new IStreamMarket.Redemption[](32);
        for (uint256 i; i < 32; ++i) {
            rs[i] = _redemption(id, p0, (i + 1) * 1e18);
        }
        vm.prank(p0);
        vm.assertEq(market.redeemMany(rs), 32e18);
    }

    function test_redeemMany_revertsOnBatchSize() public {
        IStreamMarket.Redemption[] memory none = new IStreamMarket.Redemption[](0);
        vm.expectRevert(abi.encodeWithSelector(IStreamMarket.StreamMarketInvalidBatch.selector, 0, 32));
        vm.prank(p0);
        market.redeemMany(none);
        IStreamMarket.Redemption[] memory rs = new IStreamMarket.Redemption[](33);
        for (uint256 i; i < 33; ++i) {
            rs[i] = _redemption(id, p0, (i + 1) * 1e18);
        }
        vm.expectRevert(abi.encodeWithSelector(IStreamMarket.StreamMarketInvalidBatch.selector, 33, 32));
        vm.prank(p0);
        market.redeemMany(rs);
    }

    function test_redeemMany_allOrNothing() public {
        IStreamMarket.Redemption[] memory rs = new IStreamMarket.Redemption[](3);
        rs[0] = _redemption(id, p0, 2e18);
        rs[1] = _redemption(id, p0, 2e18); // not increasing within the batch
        rs[2] = _redemption(id, p0, 3e18);
        vm.expectRevert(_notIncreasing(id, p0, 2e18, 2e18));
        vm.prank(p0);
        market.redeemMany(rs);
        rs[1] = _redemption(id, p1, 2.5e18); // p1's voucher in p0's batch
        vm.expectRevert(_badSig(id, p0, 2.5e18));
        vm.prank(p0);
        market.redeemMany(rs);
        rs[1] = _redemption(77, p0, 2.5e18);
        vm.expectRevert(abi.encodeWithSelector(IStreamMarket.StreamMarketUnknownStream.selector, 77));
        vm.prank(p0);
        market.redeemMany(rs);
        vm.assertEq(market.redeemed(id, p0), 0);
        vm.assertEq(_stream(id).deposit, DEPOSIT);
    }

    function test_redeemMany_partialFromShortDeposit() public {
        _redeem(id, p1, 99e18);
        IStreamMarket.Redemption[] memory rs = new IStreamMarket.Redemption[](1);
        rs[0] = _redemption(id, p0, 5e18);
        vm.prank(p0);
        vm.assertEq(market.redeemMany(rs), 1e18);
        vm.expectRevert(abi.encodeWithSelector(IStreamMarket.StreamMarketDepositEmpty.selector, id, 4e18));
        vm.prank(p0);
        market.redeemMany(rs);
    }

    // ================================================================== fuzz

    /// @notice Any sequence of vouchers, redeemed in any order, against any deposit: each redeem
    ///         pays min(cumulative - redeemed, deposit) or reverts by name; the provider never gets
    ///         more than the largest amount signed nor more than the deposit, and what it got is
    ///         exactly its redeemed total.
    function testFuzz_redeem_amountsAndOrders(uint96[8] memory amounts, uint96 deposit, uint8 n) public {
        n = uint8(bound(n, 1, 8));
        deposit = uint96(bound(deposit, 0, 1_000e18));
        IStreamMarket.StreamParams memory p = _params();
        p.deposit = deposit;
        uint256 sid = _create(p);
        uint256 before = token.balanceOf(p0);
        uint256 done;
        uint256 left = deposit;
        uint256 maxSigned;
        for (uint256 i; i < n; ++i) {
            uint256 cumulative = bound(amounts[i], 0, 2_000e18);
            if (cumulative > maxSigned) maxSigned = cumulative;
            bytes memory sig = _voucher(sid, p0, cumulative);
            if (cumulative <= done) {
                vm.expectRevert(_notIncreasing(sid, p0, cumulative, done));
                _redeemWith(p0, sid, cumulative, sig);
            } else if (left == 0) {
                vm.expectRevert(
                    abi.encodeWithSelector(IStreamMarket.StreamMarketDepositEmpty.selector, sid, cumulative - done)
                );
                _redeemWith(p0, sid, cumulative, sig);
            } else {
                uint256 owed = cumulative - done;
                uint256 pay = owed < left ? owed : left;
                vm.assertEq(_redeemWith(p0, sid, cumulative, sig), pay);
                done += pay;
                left -= pay;
            }
            vm.assertEq(market.redeemed(sid, p0), done);
            vm.assertEq(_stream(sid).deposit, left);
        }
        vm.assertLe(done, maxSigned, "redeemed more than signed");
        vm.assertLe(done, deposit, "redeemed more than the deposit");
        vm.assertEq(token.balanceOf(p0) - before, done);
        vm.assertEq(token.balanceOf(address(market)), DEPOSIT + left, "market holds the setUp stream's deposit and this one's");
    }

    /// @notice Two providers draw on one deposit in an interleaved order: the deposit is shared
    ///         first come, first served, and the books always add up.
    function testFuzz_redeem_twoProvidersShareTheDeposit(uint64[6] memory steps, uint96 deposit) public {
        deposit = uint96(bound(deposit, 1, 50e18));
        IStreamMarket.StreamParams memory p = _params();
        p.deposit = deposit;
        uint256 sid = _create(p);
        uint256[2] memory signed;
        for (uint256 i; i < steps.length; ++i) {
            address who = steps[i] % 2 == 0 ? p0 : p1;
            uint256 k = steps[i] % 2;
            signed[k] += 1 + (steps[i] >> 1) % 20e18;
            uint256 done = market.redeemed(sid, who);
            if (_stream(sid).deposit == 0) {
                vm.expectRevert(
                    abi.encodeWithSelector(IStreamMarket.StreamMarketDepositEmpty.selector, sid, signed[k] - done)
                );
            }
            _redeemWith(who, sid, signed[k], _voucher(sid, who, signed[k]));
            vm.assertLe(market.redeemed(sid, who), signed[k]);
        }
        uint256 total = market.redeemed(sid, p0) + market.redeemed(sid, p1);
        vm.assertEq(total + _stream(sid).deposit, deposit);
        vm.assertEq(token.balanceOf(address(market)), DEPOSIT + _stream(sid).deposit);
    }
}
