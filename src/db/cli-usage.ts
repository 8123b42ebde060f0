/**
 * @module db/cli-usage
 * The usage lines of `airwaves db …`, apart from the commands themselves: the CLI prints them in
 * its own usage, and importing db/cli-commands for them would load the database drivers
 * (PGlite, pg, Kysely: ~0.4 s of CPU) at every `airwaves serve`, the hub alone included.
 */
export const DB_USAGE = `  airwaves db check                   diagnose the embedded database (lock, open, every table read through, backups)
  airwaves db backup                  write a backup now (the server must be stopped)
  airwaves db backups                 list the backups, newest first
  airwaves db restore [FILE]          restore FILE (default: the newest backup); the current directory is kept aside`;
