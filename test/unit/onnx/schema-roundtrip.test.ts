// Proves that the static codec keeps every field of the ONNX schema: a message is generated from
// the .proto itself (protobufjs reflection) with every field of every reachable message set to a
// distinct value, then encoded, decoded and re-encoded with the static codec.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import Long from 'long';
import protobuf from 'protobufjs';
import { decodeModel, onnx, writeModel } from '../../../src/onnx/index.js';

const protoPath = fileURLToPath(new URL('../../../src/onnx/proto/onnx.proto', import.meta.url));
const root = protobuf.loadSync(protoPath);
root.resolveAll();
const modelType = root.lookupType('onnx.ModelProto');

type Plain = Record<string, unknown>;

/** Every message type reachable from ModelProto through message-typed fields. */
function reachableTypes(start: protobuf.Type): Map<string, protobuf.Type> {
  const seen = new Map<string, protobuf.Type>();
  const queue = [start];
  while (queue.length > 0) {
    const t = queue.shift()!;
    if (seen.has(t.fullName)) continue;
    seen.set(t.fullName, t);
    for (const f of t.fieldsArray) if (f.resolvedType instanceof protobuf.Type) queue.push(f.resolvedType);
  }
  return seen;
}

function allMessageTypes(ns: protobuf.NamespaceBase, out: protobuf.Type[] = []): protobuf.Type[] {
  for (const nested of ns.nestedArray) {
    if (nested instanceof protobuf.Type) out.push(nested);
    if (nested instanceof protobuf.Namespace || nested instanceof protobuf.Type) allMessageTypes(nested, out);
  }
  return out;
}

/** The static codec's class for a reflected type (`.onnx.TypeProto.Opaque` → onnx.TypeProto.Opaque). */
function staticClass(t: protobuf.Type): { encode?: unknown; prototype?: object } | undefined {
  let cur: unknown = onnx;
  for (const part of t.fullName.split('.').slice(2)) cur = (cur as Record<string, unknown> | undefined)?.[part];
  return cur as { encode?: unknown; prototype?: object } | undefined;
}

const reachable = reachableTypes(modelType);
const schemaFields = new Set<string>();
for (const t of reachable.values()) for (const f of t.fieldsArray) schemaFields.add(f.fullName);

/**
 * Builds messages with every field set. Each message-typed field is descended into at most
 * `budget` times per generator (that bounds the recursive schema: graphs hold nodes hold graphs);
 * each oneof picks its next branch per instance, starting at `round`, so that successive rounds
 * cover every branch.
 */
class Generator {
  private counter = 0;
  private readonly used = new Map<string, number>();
  private readonly turns = new Map<string, number>();
  constructor(
    private readonly round: number,
    private readonly budget: number,
  ) {}

  message(type: protobuf.Type): Plain {
    const chosen = new Set<protobuf.Field>();
    for (const oneof of type.oneofsArray) {
      const turn = this.turns.get(oneof.fullName) ?? this.round;
      this.turns.set(oneof.fullName, turn + 1);
      chosen.add(oneof.fieldsArray[turn % oneof.fieldsArray.length]!);
    }
    const out: Plain = {};
    for (const field of type.fieldsArray) {
      if (field.partOf && !chosen.has(field)) continue;
      const value = this.field(field);
      if (value !== undefined) out[field.name] = value;
    }
    return out;
  }

  private field(field: protobuf.Field): unknown {
    const rt = field.resolvedType;
    if (rt instanceof protobuf.Type) {
      const used = this.used.get(field.fullName) ?? 0;
      if (used >= this.budget) return undefined;
      this.used.set(field.fullName, used + 1);
      return field.repeated ? [this.message(rt), this.message(rt)] : this.message(rt);
    }
    if (field.repeated) return [this.scalar(field), this.scalar(field), this.scalar(field)];
    return this.scalar(field);
  }

  private scalar(field: protobuf.Field): unknown {
    const c = ++this.counter;
    const rt = field.resolvedType;
    if (rt instanceof protobuf.Enum) {
      const values = Object.values(rt.values);
      return values[c % values.length];
    }
    switch (field.type) {
      case 'string':
        return `${field.name}·${c}·é→`;
      case 'bytes':
        return Uint8Array.from([c & 0xff, 0x00, 0xff, 0x80, (c >> 8) & 0xff]);
      case 'float':
        return (c % 2 === 0 ? 1 : -1) * (c + 0.5);
      case 'double':
        return (c % 2 === 0 ? 1 : -1) * (c + 0.25 + 2 ** 40);
      case 'int32':
        return c % 2 === 0 ? c * 1000 : -c; // negative int32 takes 10 bytes on the wire
      case 'int64':
        // beyond 2^32, alternately positive and negative
        return c % 2 === 0 ? Long.fromBits(c, 0x100 + c, false) : Long.fromBits(c, -1 - c, false);
      case 'uint64':
        return Long.fromBits(c, 0x80000000 | c, true); // beyond 2^63
      case 'bool':
        return c % 2 === 0;
      default:
        throw new Error(`the generator does not handle field type ${field.type} (${field.fullName})`);
    }
  }
}

function present(msg: Plain, field: protobuf.Field): boolean {
  const v = msg[field.name];
  if (field.repeated) return Array.isArray(v) && v.length > 0;
  return Object.prototype.hasOwnProperty.call(msg, field.name) && v !== null && v !== undefined;
}

/** Records every field present in a message tree (as the static codec decoded it). */
function cover(type: protobuf.Type, msg: Plain, covered: Set<string>): void {
  for (const field of type.fieldsArray) {
    if (!present(msg, field)) continue;
    covered.add(field.fullName);
    const rt = field.resolvedType;
    if (rt instanceof protobuf.Type) {
      for (const item of field.repeated ? (msg[field.name] as Plain[]) : [msg[field.name] as Plain]) cover(rt, item, covered);
    }
  }
}

/** A codec-independent view of a message: int64 as decimal strings, bytes as hex, floats at float32. */
function normalize(type: protobuf.Type, msg: Plain): Plain {
  const out: Plain = {};
  for (const field of [...type.fieldsArray].sort((a, b) => a.id - b.id)) {
    if (!present(msg, field)) continue;
    const one = (v: unknown): unknown => {
      const rt = field.resolvedType;
      if (rt instanceof protobuf.Type) return normalize(rt, v as Plain);
      if (field.type === 'int64' || field.type === 'uint64') return Long.fromValue(v as Long).toString();
      if (field.type === 'bytes') return Buffer.from(v as Uint8Array).toString('hex');
      if (field.type === 'float') return Math.fround(v as number);
      return v;
    };
    const v = msg[field.name];
    out[field.name] = field.repeated ? (v as unknown[]).map(one) : one(v);
  }
  return out;
}

void describe('ONNX schema round trip', () => {
  void test('the static codec has a class for every message type of the .proto, with every field', () => {
    const types = allMessageTypes(root);
    assert.ok(types.length >= 28, `expected the full ONNX schema (28 message types in IR 12), found ${types.length}`);
    for (const t of types) {
      const cls = staticClass(t);
      assert.equal(typeof cls?.encode, 'function', `static codec lacks ${t.fullName}`);
      for (const f of t.fieldsArray) assert.ok(f.name in (cls!.prototype ?? {}), `static codec lacks ${f.fullName}`);
    }
    assert.equal(reachable.size, types.length, 'every message type is reachable from ModelProto');
  });

  void test('read → write → read keeps every field of every message, byte for byte', () => {
    const covered = new Set<string>();
    let rounds = 0;
    // Each round sets every oneof to a different branch; a few rounds cover them all.
    for (let round = 0; round < 12 && covered.size < schemaFields.size; round++) {
      rounds++;
      const input = new Generator(round, 2).message(modelType);
      const bytes1 = onnx.ModelProto.encode(input).finish();
      const decoded1 = onnx.ModelProto.decode(bytes1);
      const bytes2 = onnx.ModelProto.encode(decoded1).finish();
      assert.equal(Buffer.compare(Buffer.from(bytes1), Buffer.from(bytes2)), 0, `round ${round}: re-encoded bytes differ`);
      const decoded2 = onnx.ModelProto.decode(bytes2);
      assert.deepStrictEqual(decoded2, decoded1, `round ${round}: decoded messages differ`);
      assert.deepStrictEqual(
        normalize(modelType, decoded1 as unknown as Plain),
        normalize(modelType, input),
        `round ${round}: decoded values differ from what was written`,
      );
      // The toolkit's own entry points take the same path.
      const viaToolkit = writeModel(decodeModel(bytes1));
      assert.equal(Buffer.compare(Buffer.from(viaToolkit), Buffer.from(bytes1)), 0, `round ${round}: writeModel(decodeModel()) differs`);
      cover(modelType, decoded1 as unknown as Plain, covered);
    }
    const missing = [...schemaFields].filter((f) => !covered.has(f));
    assert.deepEqual(missing, [], `fields the static codec did not round-trip after ${rounds} rounds`);
    assert.equal(covered.size, schemaFields.size);
  });

  void test('every oneof branch round-trips on its own', () => {
    for (const t of reachable.values()) {
      for (const oneof of t.oneofsArray) {
        for (const branch of oneof.fieldsArray) {
          const gen = new Generator(oneof.fieldsArray.indexOf(branch), 1);
          const cls = staticClass(t) as unknown as {
            encode(m: Plain): { finish(): Uint8Array };
            decode(b: Uint8Array): Plain;
          };
          const msg = gen.message(t);
          assert.ok(present(msg, branch), `${branch.fullName} was generated`);
          const bytes = cls.encode(msg).finish();
          const decoded = cls.decode(bytes);
          assert.equal(decoded[oneof.name], branch.name, `${oneof.fullName} names the branch that was set`);
          assert.deepStrictEqual(normalize(t, decoded), normalize(t, msg));
          assert.equal(Buffer.compare(Buffer.from(cls.encode(decoded).finish()), Buffer.from(bytes)), 0);
        }
      }
    }
  });

  void test('repeated numeric fields are read whether they arrive packed or unpacked', () => {
    // proto2 writers differ: ONNX's [packed = true] fields may arrive unpacked from old writers,
    // and unpacked fields (dims, ints) packed from proto3-style writers. Both must decode.
    const packedDims = new protobuf.Writer().uint32((1 << 3) | 2).fork().int64(3).int64(4).ldelim().finish();
    assert.deepEqual(onnx.TensorProto.decode(packedDims).dims.map((d) => Long.fromValue(d).toNumber()), [3, 4]);
    const unpackedFloats = new protobuf.Writer().uint32((4 << 3) | 5).float(1.5).uint32((4 << 3) | 5).float(-2).finish();
    assert.deepEqual(onnx.TensorProto.decode(unpackedFloats).floatData, [1.5, -2]);
  });
});
