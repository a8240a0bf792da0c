// A minimal ONNX (protobuf) writer and reader for the classifier's graph, hand-written so that the project
// needs no protobuf dependency: only the few messages and fields used here (ModelProto, GraphProto,
// NodeProto, AttributeProto, TensorProto, ValueInfoProto, TypeProto, TensorShapeProto,
// OperatorSetIdProto, StringStringEntryProto), field numbers from onnx/onnx.proto.
//
// Graph: features float[batch, F] -> MatMul(W[F,K]) -> Add(b[K]) -> Softmax(axis=1) = joint float[batch, K]
//        joint -> MatMul(T[K,N]) = tier_probs float[batch, N]  (T[k,i] = 1 iff tier i is correct in outcome k)
import { tierCorrectIn, type SoftmaxModel } from './model.js';

export const INPUT_NAME = 'features';
export const JOINT_OUTPUT = 'joint';
export const MARGINAL_OUTPUT = 'tier_probs';
export const IR_VERSION = 8;
export const OPSET = 13;

const FLOAT = 1; // TensorProto.DataType.FLOAT
const ATTR_INT = 2; // AttributeProto.AttributeType.INT
const VARINT = 0;
const I64 = 1;
const LEN = 2;
const I32 = 5;

class Writer {
  private chunks: Uint8Array[] = [];
  private buf: number[] = [];

  private flush(): void {
    if (this.buf.length > 0) {
      this.chunks.push(Uint8Array.from(this.buf));
      this.buf = [];
    }
  }

  varint(n: number): this {
    if (!Number.isSafeInteger(n) || n < 0) throw new Error(`varint out of range: ${n}`);
    while (n >= 0x80) {
      this.buf.push((n % 0x80) | 0x80);
      n = Math.floor(n / 0x80);
    }
    this.buf.push(n);
    return this;
  }

  tag(field: number, wire: number): this {
    return this.varint(field * 8 + wire);
  }

  int(field: number, n: number): this {
    return this.tag(field, VARINT).varint(n);
  }

  bytes(field: number, b: Uint8Array): this {
    this.tag(field, LEN).varint(b.length);
    this.flush();
    this.chunks.push(b);
    return this;
  }

  string(field: number, s: string): this {
    return this.bytes(field, new TextEncoder().encode(s));
  }

  message(field: number, w: Writer): this {
    return this.bytes(field, w.finish());
  }

  finish(): Uint8Array {
    this.flush();
    const total = this.chunks.reduce((a, c) => a + c.length, 0);
    const out = new Uint8Array(total);
    let off = 0;
    for (const c of this.chunks) {
      out.set(c, off);
      off += c.length;
    }
    return out;
  }
}

function floatTensor(name: string, dims: number[], data: ArrayLike<number>): Writer {
  const raw = new Uint8Array(data.length * 4);
  const view = new DataView(raw.buffer);
  for (let i = 0; i < data.length; i++) view.setFloat32(i * 4, data[i]!, true); // ONNX raw_data is little-endian
  const t = new Writer();
  for (const d of dims) t.int(1, d);
  t.int(2, FLOAT).string(8, name).bytes(9, raw);
  return t;
}

/** ValueInfoProto of a float tensor; a string dim is symbolic (dim_param), a number fixed (dim_value). */
function floatValueInfo(name: string, dims: (number | string)[]): Writer {
  const shape = new Writer();
  for (const d of dims) shape.message(1, typeof d === 'number' ? new Writer().int(1, d) : new Writer().string(2, d));
  const tensorType = new Writer().int(1, FLOAT).message(2, shape);
  return new Writer().string(1, name).message(2, new Writer().message(1, tensorType));
}

function node(op: string, name: string, inputs: string[], outputs: string[], intAttrs: Record<string, number> = {}): Writer {
  const n = new Writer();
  for (const i of inputs) n.string(1, i);
  for (const o of outputs) n.string(2, o);
  n.string(3, name).string(4, op);
  for (const [k, v] of Object.entries(intAttrs)) n.message(5, new Writer().string(1, k).int(3, v).int(20, ATTR_INT));
  return n;
}

export interface OnnxExportOptions {
  tiers: number;
  graphName?: string;
  producerVersion?: string;
  /** Stored as metadata_props (e.g. the feature version), readable by any ONNX tool. */
  metadata?: Record<string, string>;
}

/** The model as ONNX ModelProto bytes. */
export function encodeOnnx(m: SoftmaxModel, o: OnnxExportOptions): Uint8Array {
  const K = m.classes;
  const N = o.tiers;
  if (K !== 2 ** N) throw new Error(`${K} classes for ${N} tiers; expected 2^${N}`);
  const T = new Float32Array(K * N);
  for (let k = 0; k < K; k++) for (let i = 0; i < N; i++) T[k * N + i] = tierCorrectIn(k, i) ? 1 : 0;
  const graph = new Writer()
    .message(1, node('MatMul', 'matmul_w', [INPUT_NAME, 'W'], ['xw']))
    .message(1, node('Add', 'add_b', ['xw', 'b'], ['logits']))
    .message(1, node('Softmax', 'softmax', ['logits'], [JOINT_OUTPUT], { axis: 1 }))
    .message(1, node('MatMul', 'marginals', [JOINT_OUTPUT, 'T'], [MARGINAL_OUTPUT]))
    .string(2, o.graphName ?? 'tiermix_query_classifier')
    .message(5, floatTensor('W', [m.dim, K], m.W))
    .message(5, floatTensor('b', [K], m.b))
    .message(5, floatTensor('T', [K, N], T))
    .message(11, floatValueInfo(INPUT_NAME, ['batch', m.dim]))
    .message(12, floatValueInfo(JOINT_OUTPUT, ['batch', K]))
    .message(12, floatValueInfo(MARGINAL_OUTPUT, ['batch', N]));
  const model = new Writer()
    .int(1, IR_VERSION)
    .string(2, 'tiermix')
    .string(3, o.producerVersion ?? '0.1.0')
    .message(7, graph)
    .message(8, new Writer().string(1, '').int(2, OPSET));
  for (const [k, v] of Object.entries(o.metadata ?? {})) model.message(14, new Writer().string(1, k).string(2, v));
  return model.finish();
}

// ---- reading ----

interface Field {
  field: number;
  wire: number;
  /** varint / fixed value, or the bytes of a length-delimited field. */
  num: number;
  bytes: Uint8Array | null;
}

function parseFields(buf: Uint8Array): Field[] {
  const out: Field[] = [];
  let pos = 0;
  const varint = (): number => {
    let result = 0;
    let mul = 1;
    for (;;) {
      if (pos >= buf.length) throw new Error('truncated protobuf varint');
      const b = buf[pos++]!;
      result += (b & 0x7f) * mul;
      if (b < 0x80) return result;
      mul *= 0x80;
    }
  };
  while (pos < buf.length) {
    const key = varint();
    const field = Math.floor(key / 8);
    const wire = key % 8;
    if (wire === VARINT) out.push({ field, wire, num: varint(), bytes: null });
    else if (wire === LEN) {
      const len = varint();
      if (pos + len > buf.length) throw new Error('truncated protobuf field');
      out.push({ field, wire, num: len, bytes: buf.subarray(pos, pos + len) });
      pos += len;
    } else if (wire === I32) {
      out.push({ field, wire, num: 0, bytes: buf.subarray(pos, pos + 4) });
      pos += 4;
    } else if (wire === I64) {
      out.push({ field, wire, num: 0, bytes: buf.subarray(pos, pos + 8) });
      pos += 8;
    } else throw new Error(`unsupported protobuf wire type ${wire}`);
  }
  return out;
}

const utf8 = (b: Uint8Array | null): string => new TextDecoder().decode(b ?? new Uint8Array());

export interface FloatInitializer {
  dims: number[];
  data: Float32Array;
}

export interface DecodedOnnx {
  initializers: Map<string, FloatInitializer>;
  metadata: Record<string, string>;
  opsetVersion: number | null;
}

function decodeTensor(bytes: Uint8Array): { name: string; tensor: FloatInitializer } {
  const dims: number[] = [];
  let name = '';
  let dataType = 0;
  let raw: Uint8Array | null = null;
  const floats: number[] = [];
  for (const f of parseFields(bytes)) {
    if (f.field === 1 && f.wire === VARINT) dims.push(f.num);
    else if (f.field === 1 && f.wire === LEN) {
      for (const p of parseFields(packedAsVarints(f.bytes!))) dims.push(p.num);
    } else if (f.field === 2) dataType = f.num;
    else if (f.field === 8) name = utf8(f.bytes);
    else if (f.field === 9) raw = f.bytes;
    else if (f.field === 4 && f.wire === LEN) {
      const v = new DataView(f.bytes!.buffer, f.bytes!.byteOffset, f.bytes!.byteLength);
      for (let i = 0; i + 4 <= f.bytes!.length; i += 4) floats.push(v.getFloat32(i, true));
    } else if (f.field === 4 && f.wire === I32) floats.push(new DataView(f.bytes!.buffer, f.bytes!.byteOffset, 4).getFloat32(0, true));
  }
  if (dataType !== FLOAT) throw new Error(`initializer ${name}: data type ${dataType}, expected FLOAT`);
  let data: Float32Array;
  if (raw) {
    data = new Float32Array(raw.length / 4);
    const v = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    for (let i = 0; i < data.length; i++) data[i] = v.getFloat32(i * 4, true);
  } else data = Float32Array.from(floats);
  const expected = dims.reduce((a, d) => a * d, 1);
  if (data.length !== expected) throw new Error(`initializer ${name}: ${data.length} values for dims [${dims.join(',')}]`);
  return { name, tensor: { dims, data } };
}

/** Packed repeated varints re-tagged as field 1 so parseFields can read them. */
function packedAsVarints(b: Uint8Array): Uint8Array {
  const out: number[] = [];
  let i = 0;
  while (i < b.length) {
    out.push(0x08);
    do out.push(b[i]!);
    while (b[i++]! >= 0x80 && i < b.length);
  }
  return Uint8Array.from(out);
}

/** The float initializers and metadata of an ONNX model (enough to rebuild the TS forward pass). */
export function decodeOnnx(bytes: Uint8Array): DecodedOnnx {
  const initializers = new Map<string, FloatInitializer>();
  const metadata: Record<string, string> = {};
  let opsetVersion: number | null = null;
  for (const f of parseFields(bytes)) {
    if (f.field === 7 && f.bytes) {
      for (const g of parseFields(f.bytes)) {
        if (g.field === 5 && g.bytes) {
          const { name, tensor } = decodeTensor(g.bytes);
          initializers.set(name, tensor);
        }
      }
    } else if (f.field === 14 && f.bytes) {
      let k = '';
      let v = '';
      for (const e of parseFields(f.bytes)) {
        if (e.field === 1) k = utf8(e.bytes);
        else if (e.field === 2) v = utf8(e.bytes);
      }
      metadata[k] = v;
    } else if (f.field === 8 && f.bytes) {
      for (const e of parseFields(f.bytes)) if (e.field === 2 && e.wire === VARINT) opsetVersion = e.num;
    }
  }
  return { initializers, metadata, opsetVersion };
}

/** The softmax model stored in an ONNX file written by encodeOnnx. */
export function modelFromOnnx(bytes: Uint8Array): { model: SoftmaxModel; tiers: number; metadata: Record<string, string> } {
  const d = decodeOnnx(bytes);
  const W = d.initializers.get('W');
  const b = d.initializers.get('b');
  const T = d.initializers.get('T');
  if (!W || !b || !T || W.dims.length !== 2 || b.dims.length !== 1 || T.dims.length !== 2) {
    throw new Error('not a tiermix classifier graph (needs initializers W[F,K], b[K], T[K,N])');
  }
  const [dim, classes] = W.dims as [number, number];
  if (b.dims[0] !== classes || T.dims[0] !== classes) throw new Error('inconsistent classifier initializer shapes');
  return { model: { dim, classes, W: W.data, b: b.data }, tiers: T.dims[1]!, metadata: d.metadata };
}
