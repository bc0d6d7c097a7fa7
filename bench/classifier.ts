// ns per classifyStatement() call for a typical TypeORM SELECT, cached and not, and the time for
// hostile inputs that the regex classifier took seconds on (a single pass: twice the input, twice the time).
// Run: npm run bench:classifier
import { classifyStatement } from '../lib/routing/statement-kind.js';

const TYPEORM_SELECT =
  'SELECT "Note"."id" AS "Note_id", "Note"."text" AS "Note_text", "Note"."createdAt" AS "Note_createdAt" FROM "note" "Note" ' +
  'LEFT JOIN "author" "Author" ON "Author"."id" = "Note"."authorId" WHERE (("Note"."id" = $1)) ORDER BY "Note"."id" DESC LIMIT 1';

function nsPerCall(texts: string[], calls: number): number {
  for (let i = 0; i < 10_000; i++) classifyStatement(texts[i % texts.length]);
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < calls; i++) classifyStatement(texts[i % texts.length]);
  return Number(process.hrtime.bigint() - t0) / calls;
}

function ms(sql: string): number {
  const t0 = process.hrtime.bigint();
  classifyStatement(sql);
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

// More distinct texts than the cache holds, visited in a cycle: every call misses.
const distinct = Array.from({ length: 10_000 }, (_, i) => `${TYPEORM_SELECT} OFFSET ${i}`);

console.log(`typical TypeORM SELECT (${TYPEORM_SELECT.length} chars):`);
console.log(`  cached     ${nsPerCall([TYPEORM_SELECT], 2_000_000).toFixed(0)} ns/call`);
console.log(`  uncached   ${nsPerCall(distinct, 200_000).toFixed(0)} ns/call`);
for (const count of [32_000, 64_000]) {
  console.log(`${count} unclosed $tag$ quotes (${count * 6} chars): ${ms(`SELECT ${'$tag$ '.repeat(count)}`).toFixed(1)} ms`);
}
for (const count of [32_000, 64_000]) {
  console.log(`${count} E'' strings and nested comments (${count * 14} chars): ${ms(`SELECT ${"E'\\'' /* /**/ */ ".repeat(count)}`).toFixed(1)} ms`);
}
