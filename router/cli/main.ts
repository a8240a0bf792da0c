#!/usr/bin/env node
// The `tiermix` command line: one program, one subcommand per job.
import { Command } from 'commander';
import { registerControllerCommand } from './controller-command.js';
import { registerDemoCommand } from './demo-command.js';
import { registerEvalCommand } from './eval-command.js';
import { registerRouterCommand } from './router-command.js';
import { registerSimCommand } from './sim-command.js';
import { registerTrainCommand } from './train-command.js';

const program = new Command();
program
  .name('tiermix')
  .description('Serve a ladder of self-hosted LLM tiers cheaply: cascade router, vLLM simulator, controller.')
  .showHelpAfterError('(run with --help for usage)');

registerRouterCommand(program);
registerSimCommand(program);
registerDemoCommand(program);
registerEvalCommand(program);
registerTrainCommand(program);
registerControllerCommand(program);

program.parseAsync(process.argv).catch((err: unknown) => {
  console.error(`tiermix: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
