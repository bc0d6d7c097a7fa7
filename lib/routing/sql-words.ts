/**
 * Words that, followed by `(`, are grammar rather than a function call: keywords that take a
 * parenthesis (IN (…), EXISTS (…), OVER (…)), SQL's keyword-functions, which are read-only
 * (COALESCE, EXTRACT, SUBSTRING, XMLELEMENT, JSON_TABLE, …), and type names with a modifier.
 */
export const NOT_CALLS: ReadonlySet<string> = new Set([
  // clauses and operators
  'select', 'from', 'where', 'join', 'on', 'using', 'as', 'and', 'or', 'not', 'in', 'is', 'exists', 'any', 'all', 'some',
  'like', 'ilike', 'similar', 'to', 'escape', 'between', 'symmetric', 'asymmetric', 'distinct', 'union', 'intersect', 'except',
  'limit', 'offset', 'fetch', 'first', 'next', 'rows', 'row', 'only', 'ties', 'with', 'recursive', 'materialized', 'returning',
  'having', 'window', 'over', 'filter', 'within', 'group', 'by', 'order', 'partition', 'range', 'groups', 'preceding',
  'following', 'unbounded', 'current', 'exclude', 'others', 'case', 'when', 'then', 'else', 'end', 'values', 'array', 'lateral',
  'tablesample', 'repeatable', 'ordinality', 'grouping', 'sets', 'cube', 'rollup', 'set', 'into', 'table', 'default', 'do',
  'conflict', 'insert', 'update', 'delete', 'merge', 'matched', 'of', 'for', 'at', 'zone', 'overlaps', 'isnull', 'notnull',
  'null', 'true', 'false', 'unknown', 'asc', 'desc', 'nulls', 'operator', 'uescape', 'if', 'columns', 'nested', 'path',
  'passing', 'search', 'cycle', 'depth', 'breadth', 'collate', 'using', 'natural', 'cross', 'inner', 'outer', 'full',
  // keyword-functions
  'cast', 'extract', 'position', 'substring', 'trim', 'overlay', 'treat', 'coalesce', 'nullif', 'greatest', 'least',
  'normalize', 'collation', 'merge_action', 'xmlattributes', 'xmlconcat', 'xmlelement', 'xmlexists', 'xmlforest',
  'xmlnamespaces', 'xmlparse', 'xmlpi', 'xmlroot', 'xmlserialize', 'xmltable', 'json', 'json_array', 'json_arrayagg',
  'json_exists', 'json_object', 'json_objectagg', 'json_query', 'json_scalar', 'json_serialize', 'json_table', 'json_value',
  'current_time', 'current_timestamp', 'localtime', 'localtimestamp',
  // types with a modifier
  'interval', 'time', 'timestamp', 'char', 'character', 'varchar', 'varying', 'nchar', 'national', 'decimal', 'dec',
  'numeric', 'float', 'bit', 'precision',
]);

/** Words after which a clause starts: what a `name(` means depends on it (a call, or an alias's column list). */
export const CLAUSES: ReadonlySet<string> = new Set([
  'select', 'from', 'join', 'where', 'group', 'having', 'window', 'order', 'limit', 'offset', 'fetch', 'for', 'returning',
  'values', 'on', 'using', 'union', 'intersect', 'except', 'set',
]);

/** In a FROM clause, the words after which `name(` is a table function; after any other word, it is an alias's column list. */
export const BEFORE_TABLE_FUNCTION: ReadonlySet<string> = new Set(['from', 'join', 'lateral']);

/** Statements that change data: seen anywhere in a query (a data-modifying CTE, FOR UPDATE), it needs the primary. */
export const DATA_CHANGING: ReadonlySet<string> = new Set(['insert', 'update', 'delete', 'merge']);
