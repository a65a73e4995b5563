/** Union-find over string keys, with component sizes. */
export class Components {
  private parent = new Map<string, string>();
  private size = new Map<string, number>();
  find(x: string): string {
    if (!this.parent.has(x)) {
      this.parent.set(x, x);
      this.size.set(x, 1);
    }
    let r = x;
    while (this.parent.get(r) !== r) r = this.parent.get(r)!;
    let c = x;
    while (c !== r) {
      const n = this.parent.get(c)!;
      this.parent.set(c, r);
      c = n;
    }
    return r;
  }
  sizeOf(x: string): number {
    return this.size.get(this.find(x))!;
  }
  union(a: string, b: string): void {
    let ra = this.find(a);
    let rb = this.find(b);
    if (ra === rb) return;
    if (ra > rb) [ra, rb] = [rb, ra]; // deterministic root: the smaller key
    this.parent.set(rb, ra);
    this.size.set(ra, this.size.get(ra)! + this.size.get(rb)!);
  }
}
