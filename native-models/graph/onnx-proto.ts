// The subset of onnx.proto (IR 10) the compiler writes, loaded into protobufjs at start-up.
// Field numbers follow onnx/onnx.proto; only messages we emit or read back are declared.
import protobuf from 'protobufjs';

const ONNX_SUBSET = `
syntax = "proto3";
package onnx;
message AttributeProto {
  string name = 1; string ref_attr_name = 21; string doc_string = 13; int32 type = 20;
  float f = 2; int64 i = 3; bytes s = 4; TensorProto t = 5; GraphProto g = 6;
  repeated float floats = 7; repeated int64 ints = 8; repeated bytes strings = 9;
  repeated TensorProto tensors = 10; repeated GraphProto graphs = 11;
}
message ValueInfoProto { string name = 1; TypeProto type = 2; string doc_string = 3; }
message NodeProto {
  repeated string input = 1; repeated string output = 2; string name = 3; string op_type = 4;
  string domain = 7; repeated AttributeProto attribute = 5; string doc_string = 6;
}
message StringStringEntryProto { string key = 1; string value = 2; }
message ModelProto {
  int64 ir_version = 1; repeated OperatorSetIdProto opset_import = 8; string producer_name = 2;
  string producer_version = 3; string domain = 4; int64 model_version = 5; string doc_string = 6;
  GraphProto graph = 7; repeated StringStringEntryProto metadata_props = 14;
}
message GraphProto {
  repeated NodeProto node = 1; string name = 2; repeated TensorProto initializer = 5;
  string doc_string = 10; repeated ValueInfoProto input = 11; repeated ValueInfoProto output = 12;
  repeated ValueInfoProto value_info = 13;
}
message TensorProto {
  repeated int64 dims = 1 [packed = true]; int32 data_type = 2; repeated float float_data = 4 [packed = true];
  repeated int32 int32_data = 5 [packed = true]; repeated int64 int64_data = 7 [packed = true];
  string name = 8; string doc_string = 12; bytes raw_data = 9;
  repeated StringStringEntryProto external_data = 13; int32 data_location = 14;
}
message TensorShapeProto {
  message Dimension { oneof value { int64 dim_value = 1; string dim_param = 2; } string denotation = 3; }
  repeated Dimension dim = 1;
}
message TypeProto {
  message Tensor { int32 elem_type = 1; TensorShapeProto shape = 2; }
  oneof value { Tensor tensor_type = 1; }
  string denotation = 6;
}
message OperatorSetIdProto { string domain = 1; int64 version = 2; }
`;

const root = protobuf.parse(ONNX_SUBSET, { keepCase: true }).root;
export const ModelProto = root.lookupType('onnx.ModelProto');

/** TensorProto.DataType values used by the compiler. */
export const DataType = {
  FLOAT: 1,
  UINT8: 2,
  INT8: 3,
  INT32: 6,
  INT64: 7,
  BOOL: 9,
  FLOAT16: 10,
  BFLOAT16: 16,
} as const;
export type DataTypeId = (typeof DataType)[keyof typeof DataType];

/** AttributeProto.AttributeType values. */
export const AttrType = { FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, FLOATS: 6, INTS: 7 } as const;

export function encodeModel(model: object): Uint8Array {
  const err = ModelProto.verify(model);
  if (err) throw new Error(`internal: ONNX model does not verify: ${err}`);
  return ModelProto.encode(ModelProto.fromObject(model)).finish();
}

/** The fields of a decoded TensorProto that callers read (snake_case, as protobufjs' toObject writes them). */
export interface DecodedTensor {
  name?: string;
  dims?: number[];
  data_type?: number;
  raw_data?: Uint8Array;
  external_data?: Array<{ key: string; value: string }>;
}
/** The fields of a decoded NodeProto that callers read. */
export interface DecodedNode {
  name?: string;
  op_type?: string;
  input?: string[];
  output?: string[];
}
/** A decoded ModelProto; fields left at their defaults are absent (`defaults: false`). */
export interface DecodedModel {
  graph?: { initializer?: DecodedTensor[]; node?: DecodedNode[] };
  [field: string]: unknown;
}

export function decodeModel(bytes: Uint8Array): DecodedModel {
  return ModelProto.toObject(ModelProto.decode(bytes), { longs: Number, bytes: Uint8Array, defaults: false });
}
