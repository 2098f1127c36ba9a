/**
 * Labels for ticks on a time axis. ECharts' default labels a day tick with the bare day of the month
 * ("2", "3" …), which reads as a count next to a SKU axis; a tick at midnight shows its date
 * ("2 Dec", "12月2日"), any other its time of day, with seconds where the tick is not on a whole
 * minute, so a zoomed-in axis never repeats one label.
 */
export function timeTick(ms: number, locale: string, timeZone?: string): string {
  const d = new Date(ms);
  const parts = new Intl.DateTimeFormat('en-GB', {
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    hourCycle: 'h23',
    timeZone,
  }).formatToParts(d);
  const zero = (type: string) => Number(parts.find((p) => p.type === type)?.value) === 0;
  const wholeMinute = zero('second') && d.getMilliseconds() === 0;
  const style: Intl.DateTimeFormatOptions =
    wholeMinute && zero('minute') && zero('hour')
      ? { day: 'numeric', month: 'short', timeZone }
      : { hour: '2-digit', minute: '2-digit', ...(wholeMinute ? {} : { second: '2-digit' }), timeZone };
  return new Intl.DateTimeFormat(locale, style).format(d);
}
