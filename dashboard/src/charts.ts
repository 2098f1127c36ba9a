import * as echarts from 'echarts/core';
import { BarChart, LineChart, ScatterChart, CustomChart } from 'echarts/charts';
import {
  DataZoomComponent,
  GeoComponent,
  GridComponent,
  LegendComponent,
  MarkAreaComponent,
  MarkLineComponent,
  TooltipComponent,
  VisualMapComponent,
} from 'echarts/components';
import { CanvasRenderer } from 'echarts/renderers';
import { feature } from 'topojson-client';
import type { GeometryCollection, Topology } from 'topojson-specification';
import world from 'world-atlas/countries-110m.json';

echarts.use([
  BarChart,
  LineChart,
  ScatterChart,
  CustomChart,
  GridComponent,
  TooltipComponent,
  LegendComponent,
  DataZoomComponent,
  GeoComponent,
  MarkLineComponent,
  MarkAreaComponent,
  VisualMapComponent,
  CanvasRenderer,
]);

export { echarts };
export type EChartsOption = echarts.EChartsCoreOption;

export const PALETTE = ['#2563eb', '#16a34a', '#f59e0b', '#9333ea', '#0891b2', '#db2777', '#65a30d', '#ea580c'];

const FONT =
  '"Inter", "Segoe UI", "PingFang SC", "Hiragino Sans GB", "Noto Sans CJK SC", "Microsoft YaHei", system-ui, sans-serif';

const live = new Set<echarts.ECharts>();
let observer: ResizeObserver | null = null;

/** A chart in `el` that resizes with it and is disposed when the element leaves the page. */
export const chart = (el: HTMLElement, option: EChartsOption): echarts.ECharts => {
  const c = echarts.init(el, null, { renderer: 'canvas' });
  c.setOption({ color: PALETTE, textStyle: { fontFamily: FONT }, animationDuration: 300, ...option });
  live.add(c);
  observer ??= new ResizeObserver(() => {
    for (const x of live) {
      const dom = x.getDom();
      if (!dom.isConnected) {
        x.dispose();
        live.delete(x);
      } else if (dom.clientWidth > 0 && dom.clientHeight > 0) x.resize();
      // A zero-sized container (hidden, or collapsed mid-navigation) is skipped: ECharts' geo view
      // inverts a singular transform for it and throws "Cannot read properties of null (reading '0')".
    }
  });
  observer.observe(el);
  return c;
};

/** Disposes charts whose elements were removed (called on navigation). */
export const sweepCharts = (): void => {
  for (const x of live)
    if (!x.getDom().isConnected) {
      x.dispose();
      live.delete(x);
    }
};

let mapRegistered = false;
/**
 * Registers "asia" from Natural Earth 1:110m country outlines (world-atlas, bundled at build time:
 * no tile server, no network), cut to East Asia where the outlets are.
 */
export const ensureMap = (): string => {
  if (!mapRegistered) {
    const topo = world as unknown as Topology<{ countries: GeometryCollection<{ name: string }> }>;
    const fc = feature(topo, topo.objects.countries);
    const keep = new Set([
      'China',
      'Taiwan',
      'Mongolia',
      'Japan',
      'South Korea',
      'North Korea',
      'Vietnam',
      'Laos',
      'Myanmar',
      'Thailand',
      'Cambodia',
      'Philippines',
      'India',
      'Nepal',
      'Bhutan',
      'Bangladesh',
      'Kazakhstan',
      'Kyrgyzstan',
      'Tajikistan',
      'Russia',
      'Pakistan',
      'Afghanistan',
    ]);
    const features = fc.features.filter((f) => keep.has(f.properties?.name ?? ''));
    echarts.registerMap('asia', { type: 'FeatureCollection', features } as never);
    mapRegistered = true;
  }
  return 'asia';
};
