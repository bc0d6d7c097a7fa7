import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { PinDbHealthIndicator } from '../../lib/terminus/index.js';
import { HealthController } from './health.controller.js';
import { MetricsController } from './metrics.controller.js';

/** /health (Terminus, with PinDb's indicator) and /metrics (Prometheus). */
@Module({
  imports: [TerminusModule],
  controllers: [HealthController, MetricsController],
  providers: [PinDbHealthIndicator],
})
export class ObservabilityModule {}
