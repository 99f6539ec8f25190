/** An agreement's or addition's dates: `endsAt` is exclusive and null while open-ended. */
export interface DateRange {
  startsAt: Date;
  endsAt: Date | null;
}

/**
 * True when `now` lies in the range. A PSA addition outside its dates (not started yet, or cancelled) is
 * inactive, which lets an MSP schedule on- and offboarding by date.
 */
export function isActive(range: DateRange, now: Date): boolean {
  const at = now.getTime();
  return range.startsAt.getTime() <= at && (range.endsAt === null || at < range.endsAt.getTime());
}
