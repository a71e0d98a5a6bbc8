// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {StreamFixture} from "../utils/StreamFixture.sol";
import {IStreamMarket} from "../../src/interfaces/IStreamMarket.sol";

/// @notice Gas of the StreamMarket paths, recorded with vm.snapshotGasLastCall into
///         contracts/snapshots/StreamMarketGasTest.json (checked by `npm run snapshot:check`). The
///         figures are the call's execution gas; the redeem budget is checked on the whole
///         transaction (21,000 + calldata + execution). Each test is its own transaction and its
///         state comes from setUp, so every slot starts cold.
contract StreamMarketGasTest is StreamFixture {
    /// @dev One redeem transaction, all in, must stay within 100,000 gas, so that redeeming once
    ///      per 1,000 paid responses costs at most 100 gas per response.
    uint256 internal constant REDEEM_TX_BUDGET = 100_000;
    uint256 internal constant RESPONSES_PER_REDEEM = 1_000;
    uint256 internal constant TX_BASE = 21_000;

    uint256 internal id; // 5 subscribers; providers 0 and 1 redeemed once already
    uint256 internal full; // 31 subscribers: the next one is the 32nd
    uint256 internal closing32; // 32 subscribers, close notice over
    uint256[] internal many; // 8 streams with provider 0 subscribed, nothing redeemed
    uint256 internal disputed; // 4 subscribers, a dispute on provider 0 with every vote revealed "invalid"
    uint256 internal disputeInvalid;
    uint256 internal disputeValid;
    uint256 internal disputeCommitted; // all committed, reveals pending
    uint256 internal disputeFresh; // nobody voted yet
    uint256 internal disputeSeating; // opened in the block before the tests' block, not seated

    function setUp() public override {
        _deploy(40);
        id = _streamWith(5);
        _redeem(id, providers[0], 1e18);
        _redeem(id, providers[1], 1e18);
        vm.startPrank(client);
        market.increaseAllowance(id, providers[2], 20e18);
        market.increaseAllowance(id, providers[3], 20e18);
        vm.stopPrank();
        _redeem(id, providers[3], 1e18);

        full = _streamWith(31);
        closing32 = _streamWith(32);
        vm.prank(client);
        market.close(closing32);

        for (uint256 i; i < 8; ++i) {
            many.push(_streamWith(1));
        }

        disputed = _streamWith(8);
        disputeInvalid = _dispute(disputed, providers[0], "r0");
        _voteAll(disputeInvalid, false);
        disputeValid = _dispute(disputed, providers[1], "r1");
        _voteAll(disputeValid, true);
        disputeCommitted = _dispute(disputed, providers[4], "r4");
        address[] memory c = market.getDispute(disputeCommitted).council;
        for (uint256 i; i < c.length; ++i) {
            _commitVote(disputeCommitted, c[i], true);
        }
        disputeFresh = _dispute(disputed, providers[5], "r5");
        disputeSeating = _openDispute(disputed, providers[7], "r7");

        vm.warp(block.timestamp + 1);
        vm.roll(block.number + 1);
    }

    /// @dev Calldata gas (EIP-2028: 4 per zero byte, 16 per other byte) of `data`.
    function _calldataGas(bytes memory data) internal pure returns (uint256 gas) {
        for (uint256 i; i < data.length; ++i) {
            gas += data[i] == 0 ? 4 : 16;
        }
    }

    // ------------------------------------------------------------------ redeem

    /// @notice The hot path: a provider redeems its latest voucher. The first redeem on a stream
    ///         creates the provider's redeemed total (a fresh slot); later ones update it.
    function test_gas_redeem_perResponseBudget() public {
        uint256 cumulative = 2e18;
        bytes memory sig = _voucher(id, providers[0], cumulative);
        vm.prank(providers[0]);
        market.redeem(id, cumulative, sig);
        uint256 exec = vm.snapshotGasLastCall("redeem (later voucher)");
        uint256 txGas = TX_BASE + _calldataGas(abi.encodeCall(IStreamMarket.redeem, (id, cumulative, sig))) + exec;
        vm.snapshotValue("redeem (later voucher): whole transaction", txGas);
        vm.snapshotValue("redeem (later voucher): gas per paid response at 1,000 responses per redeem", txGas / RESPONSES_PER_REDEEM);
        vm.assertLe(txGas, REDEEM_TX_BUDGET, "redeem transaction over 100k gas");
        vm.assertLe(txGas / RESPONSES_PER_REDEEM, 100, "over 100 gas per response");
    }

    function test_gas_redeem_first_perResponseBudget() public {
        uint256 cumulative = 1e18;
        bytes memory sig = _voucher(id, providers[2], cumulative);
        vm.prank(providers[2]);
        market.redeem(id, cumulative, sig);
        uint256 exec = vm.snapshotGasLastCall("redeem (first voucher of the provider on the stream)");
        uint256 txGas = TX_BASE + _calldataGas(abi.encodeCall(IStreamMarket.redeem, (id, cumulative, sig))) + exec;
        vm.snapshotValue("redeem (first voucher): whole transaction", txGas);
        vm.snapshotValue("redeem (first voucher): gas per paid response at 1,000 responses per redeem", txGas / RESPONSES_PER_REDEEM);
        vm.assertLe(txGas, REDEEM_TX_BUDGET, "redeem transaction over 100k gas");
        vm.assertLe(txGas / RESPONSES_PER_REDEEM, 100, "over 100 gas per response");
    }

    function test_gas_redeemMany8() public {
        IStreamMarket.Redemption[] memory rs = new IStreamMarket.Redemption[](8);
        for (uint256 i; i < 8; ++i) {
            rs[i] = IStreamMarket.Redemption({
                streamId: many[i],
                cumulativeAmount: 1e18,
                signature: _voucher(many[i], providers[0], 1e18)
            });
        }
        vm.prank(providers[0]);
        market.redeemMany(rs);
        uint256 exec = vm.snapshotGasLastCall("redeemMany (8 streams, first vouchers)");
        uint256 txGas = TX_BASE + _calldataGas(abi.encodeCall(IStreamMarket.redeemMany, (rs))) + exec;
        vm.snapshotValue("redeemMany (8 streams): whole transaction per voucher", txGas / 8);
    }

    // ------------------------------------------------------------------ streams

    function test_gas_create() public {
        IStreamMarket.StreamParams memory p = _params();
        vm.prank(client);
        market.create(p);
        vm.snapshotGasLastCall("create");
    }

    function test_gas_createWithPermit() public {
        IStreamMarket.StreamParams memory p = _params();
        vm.prank(client);
        token.approve(address(market), 0);
        uint256 deadline = block.timestamp + 1 hours;
        (uint8 v, bytes32 r, bytes32 s) = _signPermit(clientKey, client, address(market), p.deposit, deadline);
        vm.prank(client);
        market.createWithPermit(p, deadline, v, r, s);
        vm.snapshotGasLastCall("createWithPermit");
    }

    function test_gas_topUp() public {
        vm.prank(client);
        market.topUp(id, 10e18);
        vm.snapshotGasLastCall("topUp");
    }

    function test_gas_updateTerms() public {
        vm.prank(client);
        market.updateTerms(id, 3e15, 1e15);
        vm.snapshotGasLastCall("updateTerms");
    }

    function test_gas_subscribe32nd() public {
        _subscribe(full, providers[31]);
        vm.snapshotGasLastCall("subscribe (32nd)");
    }

    // ------------------------------------------------------------------ allowances

    function test_gas_increaseAllowance() public {
        vm.prank(client);
        market.increaseAllowance(id, providers[4], 10e18);
        vm.snapshotGasLastCall("increaseAllowance (first)");
    }

    function test_gas_requestAllowanceDecrease() public {
        vm.prank(client);
        market.requestAllowanceDecrease(id, providers[2], 5e18);
        vm.snapshotGasLastCall("requestAllowanceDecrease");
    }

    function test_gas_finishAllowanceDecrease() public {
        vm.prank(client);
        market.requestAllowanceDecrease(id, providers[2], 5e18);
        vm.warp(block.timestamp + CLOSE_NOTICE);
        market.finishAllowanceDecrease(id, providers[2]);
        vm.snapshotGasLastCall("finishAllowanceDecrease");
    }

    /// @notice The guaranteed path: a provider redeems from its allowance (first voucher, and a later one).
    function test_gas_redeem_fromAllowance_perResponseBudget() public {
        for (uint256 k; k < 2; ++k) {
            address p = providers[2 + k];
            uint256 cumulative = 3e18;
            bytes memory sig = _voucher(id, p, cumulative);
            vm.prank(p);
            market.redeem(id, cumulative, sig);
            string memory name = k == 0 ? "redeem from allowance (first voucher)" : "redeem from allowance (later voucher)";
            uint256 exec = vm.snapshotGasLastCall(name);
            uint256 txGas = TX_BASE + _calldataGas(abi.encodeCall(IStreamMarket.redeem, (id, cumulative, sig))) + exec;
            vm.snapshotValue(string.concat(name, ": whole transaction"), txGas);
            vm.assertLe(txGas, REDEEM_TX_BUDGET, "redeem transaction over 100k gas");
        }
    }

    function test_gas_requestUnsubscribe() public {
        vm.prank(providers[0]);
        market.requestUnsubscribe(full);
        vm.snapshotGasLastCall("requestUnsubscribe");
    }

    function test_gas_finishUnsubscribe_firstOf31() public {
        vm.prank(providers[0]);
        market.requestUnsubscribe(full);
        vm.warp(block.timestamp + UNSUB_NOTICE);
        vm.prank(providers[0]);
        market.finishUnsubscribe(full);
        vm.snapshotGasLastCall("finishUnsubscribe (1st of 31: 30 moved up)");
    }

    function test_gas_close() public {
        vm.prank(client);
        market.close(id);
        vm.snapshotGasLastCall("close");
    }

    function test_gas_finalizeClose32() public {
        vm.warp(block.timestamp + CLOSE_NOTICE);
        market.finalizeClose(closing32);
        vm.snapshotGasLastCall("finalizeClose (32 subscribers)");
    }

    // ------------------------------------------------------------------ disputes

    function test_gas_openDispute() public {
        IStreamMarket.Receipt memory r = _receipt(disputed, "fresh");
        bytes memory sig = _signReceipt(providers[6], r);
        vm.prank(client);
        market.openDispute(providers[6], r, sig, EVIDENCE);
        vm.snapshotGasLastCall("openDispute (council 3)");
    }

    function test_gas_seatDispute() public {
        market.seatDispute(disputeSeating);
        vm.snapshotGasLastCall("seatDispute (council 3 drawn from a pool of 40, 3 locks)");
        vm.assertEq(market.getDispute(disputeSeating).council.length, COUNCIL);
    }

    function test_gas_commitVerdict() public {
        address voter = market.getDispute(disputeFresh).council[2];
        bytes32 c = _verdictCommitment(disputeFresh, true, _salt(voter, disputeFresh), voter);
        vm.prank(voter);
        market.commitVerdict(disputeFresh, c);
        vm.snapshotGasLastCall("commitVerdict (3rd seat)");
    }

    function test_gas_revealVerdict() public {
        address voter = market.getDispute(disputeCommitted).council[2];
        vm.prank(voter);
        market.revealVerdict(disputeCommitted, true, _salt(voter, disputeCommitted));
        vm.snapshotGasLastCall("revealVerdict (3rd seat)");
    }

    function test_gas_finalizeDisputeInvalid() public {
        market.finalizeDispute(disputeInvalid);
        vm.snapshotGasLastCall("finalizeDispute (invalid: slash, removal, rewards, bond back)");
    }

    function test_gas_finalizeDisputeValid() public {
        market.finalizeDispute(disputeValid);
        vm.snapshotGasLastCall("finalizeDispute (valid: bond to provider and voters)");
    }
}
