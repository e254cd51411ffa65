/**
 * @module A binary min-heap of items keyed by `due`, each item knowing its own index so it can
 * be moved or removed in O(log n) without a search and without allocating.
 */

/** Something with a due time; `heapIndex` is -1 while not in a heap. */
export interface HeapItem {
  due: number;
  heapIndex: number;
}

export class DueHeap<T extends HeapItem> {
  readonly #items: T[] = [];

  get size(): number {
    return this.#items.length;
  }

  /** The item due first, without removing it. */
  peek(): T | undefined {
    return this.#items[0];
  }

  /** Inserts `item` at `due`, or moves it there if already present. */
  set(item: T, due: number): void {
    if (item.heapIndex < 0) {
      item.due = due;
      item.heapIndex = this.#items.length;
      this.#items.push(item);
      this.#up(item.heapIndex);
      return;
    }
    const earlier = due < item.due;
    item.due = due;
    if (earlier) this.#up(item.heapIndex);
    else this.#down(item.heapIndex);
  }

  /** Removes and returns the item due first. */
  pop(): T | undefined {
    const top = this.#items[0];
    if (top !== undefined) this.delete(top);
    return top;
  }

  /** Removes `item` if present. */
  delete(item: T): void {
    const i = item.heapIndex;
    if (i < 0) return;
    const last = this.#items.pop()!;
    item.heapIndex = -1;
    if (last === item) return;
    this.#items[i] = last;
    last.heapIndex = i;
    this.#up(i);
    this.#down(last.heapIndex);
  }

  /** Empties the heap. */
  clear(): void {
    for (const item of this.#items) item.heapIndex = -1;
    this.#items.length = 0;
  }

  #up(i: number): void {
    const items = this.#items;
    const item = items[i]!;
    while (i > 0) {
      const parentIndex = (i - 1) >> 1;
      const parent = items[parentIndex]!;
      if (parent.due <= item.due) break;
      items[i] = parent;
      parent.heapIndex = i;
      i = parentIndex;
    }
    items[i] = item;
    item.heapIndex = i;
  }

  #down(i: number): void {
    const items = this.#items;
    const n = items.length;
    const item = items[i]!;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= n) break;
      const right = child + 1;
      if (right < n && items[right]!.due < items[child]!.due) child = right;
      const c = items[child]!;
      if (c.due >= item.due) break;
      items[i] = c;
      c.heapIndex = i;
      i = child;
    }
    items[i] = item;
    item.heapIndex = i;
  }
}
