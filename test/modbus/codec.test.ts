import should from "should";
import { decodeRegisters, encodeBit, encodeRegisters, reorder } from "../../lib/modbus/codec";
import { ModbusError } from "../../lib/modbus/errors";
import type { DataType, MapEntry, Order } from "../../lib/modbus/types";
import { be, wire } from "./wire";

const ORDERS: Order[] = ["ABCD", "BADC", "CDAB", "DCBA"];

function e(type: DataType, extra: Partial<MapEntry> = {}): MapEntry {
  return { key: "k", area: "holding", address: 0, type, ...extra };
}

const SAMPLES: Array<[DataType, number | bigint, number | string]> = [
  ["int16", -12345, -12345],
  ["uint16", 54321, 54321],
  ["int32", -123456789, -123456789],
  ["uint32", 3000000000, 3000000000],
  ["float32", 1.5, 1.5],
  ["float32", -273.25, -273.25],
  ["float64", 1234567.891, 1234567.891],
  ["int64", -9007199254740991n, -9007199254740991],
  ["int64", -(2n ** 62n) - 7n, (-(2n ** 62n) - 7n).toString()],
  ["uint64", 2n ** 64n - 1n, (2n ** 64n - 1n).toString()],
  ["uint64", 4242n, 4242],
];

describe("modbus codec", () => {
  it("knows the four orders of a float32 1.5 (0x3FC00000)", () => {
    should(wire(be("float32", 1.5), "ABCD")).eql([0x3fc0, 0x0000]);
    should(wire(be("float32", 1.5), "CDAB")).eql([0x0000, 0x3fc0]);
    should(wire(be("float32", 1.5), "BADC")).eql([0xc03f, 0x0000]);
    should(wire(be("float32", 1.5), "DCBA")).eql([0x0000, 0xc03f]);
    for (const o of ORDERS) should(decodeRegisters(e("float32", { order: o }), wire(be("float32", 1.5), o))).equal(1.5);
  });

  for (const [type, raw, expected] of SAMPLES) {
    for (const order of ORDERS) {
      it(`decodes and encodes ${type} ${String(raw)} in ${order}`, () => {
        const regs = wire(be(type, raw), order);
        const entry = e(type, { order });
        should(decodeRegisters(entry, regs)).equal(expected);
        should(encodeRegisters(entry, expected)).eql(regs);
      });
    }
  }

  it("decodes a bit of a register and bools", () => {
    should(decodeRegisters(e("bit", { bit: 0 }), [0x8001])).equal(true);
    should(decodeRegisters(e("bit", { bit: 1 }), [0x8001])).equal(false);
    should(decodeRegisters(e("bit", { bit: 15 }), [0x8001])).equal(true);
    should(encodeBit(e("bool", { area: "coil" }), 1)).equal(true);
    should(encodeBit(e("bool", { area: "coil" }), false)).equal(false);
    should.throws(() => encodeBit(e("bool", { area: "coil" }), 2), /expected true\/false/);
  });

  it("decodes strings in byte order, trimming NUL padding, and encodes them back", () => {
    const regs = [0x4142, 0x4344, 0x4500];
    should(decodeRegisters(e("string", { length: 3 }), regs)).equal("ABCDE");
    should(decodeRegisters(e("string", { length: 3, order: "BADC" }), [0x4241, 0x4443, 0x0045])).equal("ABCDE");
    should(decodeRegisters(e("string", { length: 3, order: "CDAB" }), regs)).equal("ABCDE");
    should(encodeRegisters(e("string", { length: 3 }), "ABCDE")).eql(regs);
    should(encodeRegisters(e("string", { length: 3, order: "DCBA" }), "ABCDE")).eql([0x4241, 0x4443, 0x0045]);
    should.throws(() => encodeRegisters(e("string", { length: 2 }), "ABCDE"), /at most 4/);
  });

  it("applies scale, offset and rounding on read, and their inverse on write", () => {
    const t = e("int16", { scale: 0.1, offset: -40, round: 1 });
    should(decodeRegisters(t, [655])).equal(25.5); // 655 * 0.1 - 40
    should(encodeRegisters(t, 25.5)).eql([655]);
    const f = e("float32", { scale: 2, offset: 1 });
    should(encodeRegisters(f, 4)).eql(wire(be("float32", 1.5), "ABCD"));
    should(decodeRegisters(f, wire(be("float32", 1.5), "ABCD"))).equal(4);
    const r = e("float32", { round: 2 });
    should(decodeRegisters(r, wire(be("float32", 0.1), "ABCD"))).equal(0.1);
    should(decodeRegisters(e("float32"), wire(be("float32", 0.1), "ABCD"))).not.equal(0.1); // float32 noise without round
    // int64 with scale becomes a number even when large
    should(decodeRegisters(e("uint64", { scale: 1, offset: 1 }), wire(be("uint64", 2n ** 60n), "ABCD"))).equal(2 ** 60 + 1);
  });

  it("rejects out-of-range writes with the range in the message", () => {
    const cases: Array<[MapEntry, number | string, RegExp]> = [
      [e("int16"), 32768, /out of range for int16 \(-32768\.\.32767\)/],
      [e("uint16"), -1, /out of range for uint16 \(0\.\.65535\)/],
      [e("int32"), 2 ** 31, /out of range for int32/],
      [e("uint32"), 2 ** 32, /out of range for uint32/],
      [e("uint64"), "-1", /out of range for uint64/],
      [e("int64"), (2n ** 63n).toString(), /out of range for int64/],
      [e("float32"), 1e39, /out of range for float32/],
      [e("uint16", { scale: 0.1 }), 6553.6, /out of range for uint16 after removing scale\/offset/],
      [e("int16"), "abc", /expected a finite number/],
      [e("float64"), Number.NaN, /expected a finite number/],
    ];
    for (const [entry, v, re] of cases) {
      let err: unknown;
      try {
        encodeRegisters(entry, v);
      } catch (x) {
        err = x;
      }
      should(err).be.instanceOf(ModbusError);
      should((err as Error).message).match(re);
    }
    should(encodeRegisters(e("uint16", { scale: 0.1 }), 6553.5)).eql([65535]);
    should(encodeRegisters(e("uint64"), (2n ** 64n - 1n).toString())).eql([0xffff, 0xffff, 0xffff, 0xffff]);
  });

  it("reorder is its own inverse", () => {
    const w = [0x0102, 0x0304, 0x0506, 0x0708];
    for (const o of ORDERS) should(reorder(reorder(w, o), o)).eql(w);
  });
});
