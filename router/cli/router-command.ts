// `tiermix router`: placeholder registration, replaced by the real server wiring in this session.
import type { Command } from 'commander';
export function registerRouterCommand(program: Command): void {
  program.command('router').description('run the routing gateway (in progress)');
}
