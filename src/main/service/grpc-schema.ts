// A gRPC service's schema as a @bufbuild/protobuf registry: from server
// reflection's file descriptors, a descriptor set (`buf build -o x.binpb`,
// `protoc --include_imports -o x.pb`) or one .proto file (parsed by
// protobufjs). Decodes a call's messages to JSON by the method's types.
import { create, createFileRegistry, fromBinary, toJsonString, type DescFile, type FileRegistry } from '@bufbuild/protobuf';
import * as wellKnown from '@bufbuild/protobuf/wkt';
import { FileDescriptorProtoSchema, FileDescriptorSetSchema, type DescriptorProto, type EnumDescriptorProto, type FileDescriptorProto } from '@bufbuild/protobuf/wkt';
import { protoCamelCase } from '@bufbuild/protobuf/reflect';
import type { FlowDirection } from '../../shared/traffic.js';

export interface GrpcSchema {
  registry: FileRegistry;
  /** The files, dependencies first: what a reflection server serves. */
  files: FileDescriptorProto[];
  /** Fully-qualified names of the services it describes. */
  services: string[];
}

/** Imports a schema may leave out: every protobuf runtime has them (google/protobuf/*.proto). */
const wellKnownFiles = new Map(
  Object.values(wellKnown)
    .filter((value): value is DescFile => typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'file')
    .map((file) => [file.proto.name, file.proto]),
);

/** Files as given (any order), with the well-known ones they import and lack added. */
export function schemaFromFiles(given: readonly FileDescriptorProto[]): GrpcSchema {
  const byName = new Map(given.map((file) => [file.name, file]));
  const files: FileDescriptorProto[] = [];
  const placed = new Set<string>();
  // Dependencies before dependents: reflection servers and tools expect that order.
  const place = (name: string, importedBy: string | undefined): void => {
    if (placed.has(name)) return;
    const file = byName.get(name) ?? wellKnownFiles.get(name);
    if (file === undefined) throw new Error(`${importedBy ?? 'the schema'} imports ${name}, which it does not include: give a descriptor set built with its imports`);
    placed.add(name);
    for (const dependency of file.dependency) place(dependency, name);
    files.push(file);
  };
  for (const file of given) place(file.name, undefined);
  qualifyTypeNames(files);
  const registry = createFileRegistry(create(FileDescriptorSetSchema, { file: files }));
  const services = given.flatMap((file) => file.service.map((service) => (file.package ? `${file.package}.${service.name}` : service.name)));
  return { registry, files, services };
}

/**
 * Makes every type reference fully qualified (".pkg.Message"), as protoc
 * writes them. protobufjs, and so Node's @grpc/reflection servers, write
 * them relative to where they are used ("Message"), which the registry
 * cannot resolve; resolved here by protobuf's scoping rules. Empty JSON
 * names, another protobufjs habit, get protoc's.
 */
function qualifyTypeNames(files: readonly FileDescriptorProto[]): void {
  const known = new Set<string>();
  const join = (scope: string, name: string): string => (scope === '' ? name : `${scope}.${name}`);
  const collect = (scope: string, messages: readonly DescriptorProto[], enums: readonly EnumDescriptorProto[]): void => {
    for (const item of enums) known.add(join(scope, item.name));
    for (const message of messages) {
      const name = join(scope, message.name);
      known.add(name);
      collect(name, message.nestedType, message.enumType);
    }
  };
  for (const file of files) collect(file.package, file.messageType, file.enumType);
  const resolve = (reference: string, scope: string): string => {
    if (reference === '' || reference.startsWith('.')) return reference;
    for (let current = scope; ; current = current.slice(0, Math.max(0, current.lastIndexOf('.')))) {
      const candidate = join(current, reference);
      if (known.has(candidate)) return `.${candidate}`;
      if (current === '') return reference;
    }
  };
  const qualify = (scope: string, messages: readonly DescriptorProto[]): void => {
    for (const message of messages) {
      const name = join(scope, message.name);
      for (const field of [...message.field, ...message.extension]) {
        field.typeName = resolve(field.typeName, name);
        // protoc always writes json_name; protobufjs writes it empty, which would name every field "" in JSON.
        if (field.jsonName === '') field.jsonName = protoCamelCase(field.name);
      }
      qualify(name, message.nestedType);
    }
  };
  for (const file of files) {
    qualify(file.package, file.messageType);
    for (const field of file.extension) field.typeName = resolve(field.typeName, file.package);
    for (const service of file.service) {
      for (const method of service.method) {
        method.inputType = resolve(method.inputType, file.package);
        method.outputType = resolve(method.outputType, file.package);
      }
    }
  }
}

/** Serialized FileDescriptorProtos, as server reflection sends them. */
export function schemaFromDescriptorBytes(files: readonly Uint8Array[]): GrpcSchema {
  return schemaFromFiles(files.map((bytes) => fromBinary(FileDescriptorProtoSchema, bytes)));
}

/** A file the user gave: a .proto source, or a serialized FileDescriptorSet. */
export async function schemaFromUserFile(fileName: string, bytes: Uint8Array): Promise<GrpcSchema> {
  if (fileName.toLowerCase().endsWith('.proto')) return schemaFromProtoSource(fileName, Buffer.from(bytes).toString('utf8'));
  let set;
  try {
    set = fromBinary(FileDescriptorSetSchema, bytes);
  } catch (error) {
    throw new Error(`${fileName} is neither a .proto file nor a descriptor set: ${(error as Error).message}`);
  }
  if (set.file.length === 0) throw new Error(`${fileName} is neither a .proto file nor a descriptor set (it describes no file)`);
  return schemaFromFiles(set.file);
}

/** One .proto file; it may import the well-known google/protobuf types and nothing else. */
export async function schemaFromProtoSource(fileName: string, source: string): Promise<GrpcSchema> {
  // Loaded when first used: most sessions never decode with a .proto.
  const { default: protobuf } = await import('protobufjs');
  const { default: descriptor } = await import('protobufjs/ext/descriptor/index.js');
  const root = new protobuf.Root();
  let parsed;
  try {
    parsed = protobuf.parse(source, root, { keepCase: true, alternateCommentMode: true });
  } catch (error) {
    throw new Error(`${fileName}: ${(error as Error).message}`);
  }
  const imports = [...(parsed.imports ?? []), ...(parsed.weakImports ?? [])];
  for (const name of imports) {
    const common = protobuf.common.get(name);
    if (!wellKnownFiles.has(name) || common === null) {
      throw new Error(`${fileName} imports ${name}: give a descriptor set instead (buf build -o schema.binpb, or protoc --include_imports -o schema.pb)`);
    }
    root.addJSON(common.nested!);
  }
  try {
    root.resolveAll();
  } catch (error) {
    throw new Error(`${fileName}: ${(error as Error).message}`);
  }
  // protobufjs writes a file per package under names of its own; the user's is the one of the parsed package.
  // ext/descriptor adds toDescriptor to Root when loaded; its typings leave it out.
  const described = (root as unknown as { toDescriptor(syntax: string): object }).toDescriptor(/^\s*syntax\s*=\s*["']proto2["']/m.test(source) ? 'proto2' : 'proto3');
  const set = descriptor.FileDescriptorSet.encode(described).finish();
  const ownPackage = parsed.package ?? '';
  const file = fromBinary(FileDescriptorSetSchema, set).file.find((candidate) => (candidate.package ?? '') === ownPackage);
  if (file === undefined) throw new Error(`${fileName} describes nothing`);
  file.name = fileName;
  file.dependency = imports;
  return schemaFromFiles([file]);
}

/** The method a gRPC path (/package.Service/Method) names, when the schema has it. */
export function methodOf(schema: GrpcSchema, path: string) {
  const match = /^\/([^/]+)\/([^/]+)$/.exec(path);
  if (match === null) return undefined;
  return schema.registry.getService(match[1]!)?.methods.find((method) => method.name === match[2]);
}

/** One message of a call as JSON (proto3 JSON mapping), or throws when the bytes do not fit the type. */
export function messageAsJson(schema: GrpcSchema, path: string, direction: FlowDirection, bytes: Uint8Array): string {
  const method = methodOf(schema, path);
  if (method === undefined) throw new Error(`the schema has no method ${path}`);
  const type = direction === 'to-service' ? method.input : method.output;
  return toJsonString(type, fromBinary(type, bytes), { registry: schema.registry, prettySpaces: 2 });
}
