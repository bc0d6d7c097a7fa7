import type { Logger, QueryRunner } from 'typeorm';

/** A TypeORM logger that keeps every statement TypeORM sends (it logs each one just before sending). */
export class StatementLog implements Logger {
  readonly statements: string[] = [];

  logQuery(query: string, _parameters?: unknown[], _runner?: QueryRunner): void {
    this.statements.push(query);
  }
  logQueryError(): void {}
  logQuerySlow(): void {}
  logSchemaBuild(): void {}
  logMigration(): void {}
  log(): void {}

  clear(): void {
    this.statements.length = 0;
  }
}
