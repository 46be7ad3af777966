/**
 * Writing commands: put, del.
 *
 * @packageDocumentation
 */

import type { Command } from 'commander'
import { encodingsOf, withDatabase } from '../context'
import { bothTimes } from '../time'

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '')
}

export function registerWriteCommands(program: Command): void {
  program
    .command('put')
    .summary('write a new version of a key')
    .description(
      'Write <value> as a new version of <key> (creating the database if needed) and print its\n' +
        'commit timestamp once it is durable. With the default json value encoding the value is\n' +
        "JSON text: quote strings ('\"text\"'). A value of - is read from stdin.",
    )
    .argument('<db>', 'database directory')
    .argument('<key>', 'the key, in the key encoding')
    .argument('<value>', 'the value, in the value encoding (- reads stdin)')
    .addHelpText('after', `\nExamples:\n  chronokv put ./data user:alice '{"name":"Alice","plan":"pro"}'\n  chronokv put ./data greeting hello --value-encoding utf8\n  cat doc.json | chronokv put ./data doc:1 -`)
    .action(async (path: string, keyText: string, valueText: string, _options: object, command: Command) => {
      const enc = encodingsOf(command)
      const key = enc.parseKey(keyText)
      const value = enc.parseValueArg(valueText === '-' ? await readStdin() : valueText)
      await withDatabase(path, enc, { write: true }, async (db) => {
        const ts = await db.put(key, value)
        process.stdout.write(`committed at ${bothTimes(ts)}\n`)
      })
    })

  program
    .command('del')
    .alias('delete')
    .summary('delete a key (its history stays)')
    .description('Write a deletion (a tombstone version) of <key> and print its commit timestamp.\nEarlier versions stay readable as of earlier times and in its history.')
    .argument('<db>', 'database directory')
    .argument('<key>', 'the key, in the key encoding')
    .addHelpText('after', '\nExample:\n  chronokv del ./data user:bob')
    .action(async (path: string, keyText: string, _options: object, command: Command) => {
      const enc = encodingsOf(command)
      const key = enc.parseKey(keyText)
      await withDatabase(path, enc, { write: true }, async (db) => {
        const ts = await db.delete(key)
        process.stdout.write(`deleted at ${bothTimes(ts)}\n`)
      })
    })
}
