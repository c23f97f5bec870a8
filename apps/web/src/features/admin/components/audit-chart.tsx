import type { AuditReport } from '@sfe/contract';
import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Tooltip,
} from 'chart.js';
import { useEffect, useRef } from 'react';

// Only the pieces drawn here, so the chunk carries no unused chart types.
Chart.register(BarController, BarElement, LineController, LineElement, PointElement, CategoryScale, LinearScale, Tooltip, Legend);

type Day = NonNullable<AuditReport['byDay']>[number];

/** Operations per day (succeeded and failed stacked) and the failed share as a line. Loaded on demand. */
export default function AuditChart({ days }: { days: readonly Day[] }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    if (!canvas.current) return undefined;
    const chart = new Chart(canvas.current, {
      data: {
        labels: days.map((d) => d.day.slice(5)),
        datasets: [
          { type: 'bar', label: 'Succeeded', data: days.map((d) => d.total - d.failed), backgroundColor: '#1d4ed8', stack: 'ops', yAxisID: 'y' },
          { type: 'bar', label: 'Failed', data: days.map((d) => d.failed), backgroundColor: '#b91c1c', stack: 'ops', yAxisID: 'y' },
          {
            type: 'line',
            label: 'Failed share (%)',
            data: days.map((d) => (d.total === 0 ? 0 : Math.round((d.failed / d.total) * 1000) / 10)),
            borderColor: '#f59e0b',
            backgroundColor: '#f59e0b',
            yAxisID: 'share',
          },
        ],
      },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        scales: {
          x: { stacked: true },
          y: { stacked: true, beginAtZero: true, title: { display: true, text: 'Operations' } },
          share: { position: 'right', min: 0, max: 100, grid: { drawOnChartArea: false }, title: { display: true, text: 'Failed %' } },
        },
      },
    });
    return () => chart.destroy();
  }, [days]);
  const total = days.reduce((n, d) => n + d.total, 0);
  return (
    <div className="chart-box">
      <canvas ref={canvas} role="img" aria-label={`Operations per day over ${days.length} days, ${total} in all, with the failed share`} data-testid="audit-chart" />
    </div>
  );
}
