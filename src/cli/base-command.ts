import {Command, Errors, Flags, type Interfaces} from '@oclif/core'

import {resolvePaths, type OgpuPaths} from '../config/paths.js'
import {OgpuError, toOgpuError} from '../errors/index.js'
import {loadedErrorConverters, toCliError} from './errors.js'
import {color} from './format.js'

export type BaseFlags<T extends typeof Command> = Interfaces.InferredFlags<(typeof BaseCommand)['baseFlags'] & T['flags']>
export type BaseArgs<T extends typeof Command> = Interfaces.InferredArgs<T['args']>

/**
 * The base of every ogpu command. A command parses its flags, calls one service with plain options, and renders the
 * result: `run()` returns typed data, which oclif prints as JSON with `--json`; human output is printed only when
 * JSON is off. Every failure goes through the one handler below, which prints it (as `{"error": ...}` with
 * `--json`) and exits with the error's fixed exit code.
 */
export abstract class BaseCommand<T extends typeof Command> extends Command {
  static override enableJsonFlag = true

  static override baseFlags = {
    network: Flags.string({
      description: 'Network to use (a name from `ogpu network list`). Defaults to the active network.',
      helpGroup: 'GLOBAL',
      env: 'OGPU_NETWORK',
    }),
    rpc: Flags.string({
      description: 'JSON-RPC URL to use instead of the network file\'s (the contract addresses still come from the network).',
      helpGroup: 'GLOBAL',
      env: 'OGPU_RPC',
    }),
  }

  protected flags!: BaseFlags<T>
  protected args!: BaseArgs<T>
  protected paths!: OgpuPaths

  override async init(): Promise<void> {
    await super.init()
    const {args, flags} = await this.parse({
      args: this.ctor.args,
      baseFlags: (super.ctor as typeof BaseCommand).baseFlags,
      enableJsonFlag: this.ctor.enableJsonFlag,
      flags: this.ctor.flags,
      strict: this.ctor.strict,
    })
    this.flags = flags as BaseFlags<T>
    this.args = args as BaseArgs<T>
    this.paths = resolvePaths()
  }

  /** A progress or status line for people, on stderr (also with --json, whose stdout stays pure JSON). */
  protected note(message: string): void {
    process.stderr.write(`${message}\n`)
  }

  /** The single error handler: convert (every converter of cli/errors.ts), print once, exit with the kind's code. */
  override async catch(err: unknown): Promise<never> {
    const error = await toCliError(err)
    if (this.jsonEnabled()) {
      this.logJson({error: error.toJSON()})
    } else {
      this.printError(error)
    }
    if (error.kind === 'bug' && process.env.OGPU_DEBUG && error.cause instanceof Error) process.stderr.write(`${error.cause.stack}\n`)
    return Errors.exit(error.exitCode)
  }

  // oclif calls this only from its own catch, which the one above replaces; by then the converters are loaded.
  protected override toErrorJson(err: unknown): unknown {
    return {error: toOgpuError(err, loadedErrorConverters()).toJSON()}
  }

  private printError(error: OgpuError): void {
    if (error.kind === 'cancelled') {
      process.stderr.write(`${error.message}\n`)
      return
    }
    const label = error.kind === 'external' ? 'Failed' : 'Error'
    process.stderr.write(`${color.red(`${label}:`)} ${error.message}\n`)
    if (error.hint) process.stderr.write(`${color.dim('Hint:')} ${error.hint}\n`)
  }
}
