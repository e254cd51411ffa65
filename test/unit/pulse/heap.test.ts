import { describe, expect, it } from "bun:test";
import { DueHeap, type HeapItem } from "../../../src/pulse/heap.ts";

interface Item extends HeapItem {
  readonly name: number;
}

describe("DueHeap", () => {
  it("pops in due order through random inserts, moves and deletes", () => {
    let seed = 7;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const heap = new DueHeap<Item>();
    const items: Item[] = Array.from({ length: 300 }, (_, name) => ({ name, due: 0, heapIndex: -1 }));
    const present = new Set<Item>();
    for (let step = 0; step < 5_000; step++) {
      const item = items[Math.floor(random() * items.length)]!;
      if (random() < 0.2) {
        heap.delete(item);
        present.delete(item);
        expect(item.heapIndex).toBe(-1);
      } else {
        heap.set(item, Math.floor(random() * 1_000));
        present.add(item);
      }
      expect(heap.size).toBe(present.size);
      const min = Math.min(...[...present].map((i) => i.due));
      if (present.size > 0) expect(heap.peek()!.due).toBe(min);
    }
    const order: number[] = [];
    for (let item = heap.pop(); item !== undefined; item = heap.pop()) order.push(item.due);
    expect(order).toEqual([...order].sort((a, b) => a - b));
    expect(order.length).toBe(present.size);
  });

  it("clear() empties it and marks items absent", () => {
    const heap = new DueHeap<Item>();
    const a: Item = { name: 1, due: 0, heapIndex: -1 };
    heap.set(a, 5);
    heap.clear();
    expect([heap.size, a.heapIndex, heap.pop()]).toEqual([0, -1, undefined]);
  });
});
