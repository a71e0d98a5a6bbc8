/** The batch-task market (TaskMarket.sol: reverse auction, checkpoints, council verdicts), through its typed binding. */
import type {ContractRunner} from 'ethers'

import {type TaskMarket, TaskMarket__factory} from './generated/index.js'

export type {TaskMarket} from './generated/index.js'
export type {ITaskMarket} from './generated/TaskMarket.js'

/** The market at `address`, read-only with a provider, or signing with a signer. */
export function taskMarketAt(address: string, runner: ContractRunner): TaskMarket {
  return TaskMarket__factory.connect(address, runner)
}

/** The market's ABI interface (for decoding its event logs without a connection). */
export function taskMarketInterface(): TaskMarket['interface'] {
  return TaskMarket__factory.createInterface()
}
