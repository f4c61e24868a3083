// Schemas from a .proto (protobufjs) and reflection-style descriptors made
// usable by @bufbuild/protobuf, and messages read without any schema.
import { toBinary } from '@bufbuild/protobuf';
import { BinaryWriter, WireType } from '@bufbuild/protobuf/wire';
import { FileDescriptorProtoSchema } from '@bufbuild/protobuf/wkt';
import { describe, expect, it } from 'vitest';
import { messageAsJson, schemaFromDescriptorBytes, schemaFromProtoSource } from '../../src/main/service/grpc-schema.js';
import { decodeRawProtobuf } from '../../src/main/service/protobuf-raw.js';

const shopProto = `syntax = "proto3";
package shop.v1;
import "google/protobuf/timestamp.proto";

enum Kind { KIND_UNSPECIFIED = 0; KIND_BOOK = 1; }
message Order {
  message Line { Kind kind = 1; string sku = 2; }
  string order_id = 1;
  int64 cents = 2;
  google.protobuf.Timestamp placed_at = 3;
  map<string, int32> counts = 4;
  repeated Line lines = 5;
  optional bool gift = 6;
}
service Orders {
  rpc Get(Order) returns (Order);
}
`;

const field = (writer: BinaryWriter, no: number, bytes: Uint8Array): BinaryWriter => writer.tag(no, WireType.LengthDelimited).bytes(bytes);
const order = (() => {
  const line = new BinaryWriter().tag(1, WireType.Varint).int32(1).tag(2, WireType.LengthDelimited).string('isbn-1').finish();
  const placed = new BinaryWriter().tag(1, WireType.Varint).int64(1_700_000_000n).finish();
  const entry = new BinaryWriter().tag(1, WireType.LengthDelimited).string('tea').tag(2, WireType.Varint).int32(3).finish();
  const writer = new BinaryWriter().tag(1, WireType.LengthDelimited).string('o-1').tag(2, WireType.Varint).int64(1999n);
  field(writer, 3, placed);
  field(writer, 4, entry);
  field(writer, 5, line);
  return writer.tag(6, WireType.Varint).bool(true).finish();
})();
const expected = { orderId: 'o-1', cents: '1999', placedAt: '2023-11-14T22:13:20Z', counts: { tea: 3 }, lines: [{ kind: 'KIND_BOOK', sku: 'isbn-1' }], gift: true };

describe('grpc schemas', () => {
  it('reads a .proto with nested types, enums, maps and a well-known import, and decodes by it', async () => {
    const schema = await schemaFromProtoSource('shop.proto', shopProto);
    expect(schema.services).toEqual(['shop.v1.Orders']);
    expect(schema.files.map((file) => file.name)).toEqual(['google/protobuf/timestamp.proto', 'shop.proto']);
    expect(JSON.parse(messageAsJson(schema, '/shop.v1.Orders/Get', 'to-client', order))).toEqual(expected);
  });

  it('takes descriptors whose type names are relative, as Node reflection servers send them', async () => {
    const schema = await schemaFromProtoSource('shop.proto', shopProto);
    const shop = schema.files.at(-1)!;
    const message = shop.messageType[0]!;
    message.field.find((f) => f.name === 'lines')!.typeName = 'Line';
    message.nestedType.find((n) => n.name === 'Line')!.field[0]!.typeName = 'Kind';
    shop.service[0]!.method[0]!.inputType = 'Order';
    // Only the service's own file: the well-known import comes from the runtime.
    const again = schemaFromDescriptorBytes([toBinary(FileDescriptorProtoSchema, shop)]);
    expect(JSON.parse(messageAsJson(again, '/shop.v1.Orders/Get', 'to-service', order))).toEqual(expected);
  });

  it('says when a method is not in the schema, or the bytes do not fit its type', async () => {
    const schema = await schemaFromProtoSource('shop.proto', shopProto);
    expect(() => messageAsJson(schema, '/shop.v1.Orders/Put', 'to-client', order)).toThrow('the schema has no method /shop.v1.Orders/Put');
    expect(() => messageAsJson(schema, '/shop.v1.Orders/Get', 'to-client', order.subarray(0, 10))).toThrow();
  });
});

describe('decodeRawProtobuf', () => {
  it('prints fields by number as protoc --decode_raw does: nested messages, text, bytes, fixed widths', () => {
    const inner = new BinaryWriter().tag(1, WireType.Varint).int32(7).tag(2, WireType.LengthDelimited).string('inner').finish();
    const message = new BinaryWriter()
      .tag(1, WireType.LengthDelimited)
      .string('hello')
      .tag(2, WireType.Varint)
      .int32(150)
      .tag(3, WireType.LengthDelimited)
      .bytes(inner)
      .tag(4, WireType.Bit64)
      .double(1.5)
      .tag(5, WireType.Bit32)
      .fixed32(9)
      .tag(6, WireType.LengthDelimited)
      .bytes(new Uint8Array([0, 255]))
      .tag(7, WireType.LengthDelimited)
      .string('hi')
      .finish();
    expect(decodeRawProtobuf(message)).toBe(['1: "hello"', '2: 150', '3 {', '  1: 7', '  2: "inner"', '}', '4: 0x3ff8000000000000', '5: 0x00000009', '6: <00ff>', '7: "hi"'].join('\n'));
  });

  it('refuses bytes that are not a message', () => {
    expect(() => decodeRawProtobuf(Buffer.from([0x08, 0x96]))).toThrow();
    expect(() => decodeRawProtobuf(Buffer.from('stream me'))).toThrow(/wire type 3/);
  });
});
