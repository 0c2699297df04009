// AssemblyScript compiler transform, listed in this package's asconfig.json: stores the text of every
// `new TextTable(<literal>)` as UTF-8 static data instead of a UTF-16 string. AssemblyScript has no
// compile-time way to encode a literal as UTF-8 (memory.data takes numbers), so the build does it:
//   new TextTable(`a\nb`)  →  new TextTable("", memory.data<u8>([97, 10, 98]), 3)
// Without this transform the same source still builds and behaves the same (TextTable then keeps the
// string); only the data is twice as large.
import { LiteralKind, Node, NodeKind } from "assemblyscript";

/** The literal's text when `node` is a string literal or a template without substitutions, else null. */
function literalText(node) {
  if (node.kind !== NodeKind.Literal) return null;
  if (node.literalKind === LiteralKind.String) return node.value;
  if (node.literalKind === LiteralKind.Template && node.tag === null && node.expressions.length === 0) return node.parts[0];
  return null;
}

/** Rewrites one `new TextTable(literal)`; leaves every other node alone. */
function rewrite(node) {
  if (node.kind !== NodeKind.New || node.typeName.identifier.text !== "TextTable" || node.args.length !== 1) return;
  const text = literalText(node.args[0]);
  if (text === null) return;
  const range = node.args[0].range;
  const bytes = [...Buffer.from(text, "utf8")];
  const u8 = Node.createNamedType(Node.createSimpleTypeName("u8", range), null, false, range);
  const memoryData = Node.createPropertyAccessExpression(Node.createIdentifierExpression("memory", range), Node.createIdentifierExpression("data", range), range);
  const values = Node.createArrayLiteralExpression(bytes.map((b) => Node.createIntegerLiteralExpression(globalThis.i64_new(b, 0), range)), range);
  node.args = [
    Node.createStringLiteralExpression("", range),
    Node.createCallExpression(memoryData, [u8], [values], range),
    Node.createIntegerLiteralExpression(globalThis.i64_new(bytes.length, 0), range),
  ];
}

/** Visits every AST node below `node` once (ranges and parents are not children). */
function walk(node, seen) {
  if (node === null || typeof node !== "object" || seen.has(node)) return;
  seen.add(node);
  if (Array.isArray(node)) {
    for (const item of node) walk(item, seen);
    return;
  }
  if (typeof node.kind === "number" && node.range !== undefined) rewrite(node);
  for (const key of Object.keys(node)) {
    if (key === "range" || key === "parent" || key === "source") continue;
    walk(node[key], seen);
  }
}

/** Whether `source` imports TextTable from this package, so a class of the same name elsewhere is left alone. */
function importsTexts(source) {
  return source.statements.some(
    (s) => s.kind === NodeKind.Import && s.declarations !== null && /(^|\/)proxy-wasm-as-sdk\/texts$|^\.\.?\/texts$/.test(s.path.value) && s.declarations.some((d) => d.foreignName.text === "TextTable"),
  );
}

export default class TextsTransform {
  /** Runs after parsing, on every source that imports TextTable from this package. */
  afterParse(parser) {
    const seen = new Set();
    for (const source of parser.sources) if (importsTexts(source)) walk(source.statements, seen);
  }
}
