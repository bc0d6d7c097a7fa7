import { Controller, Get, Header } from '@nestjs/common';
import { register } from 'prom-client';

/**
 * GET /metrics: what Prometheus scrapes. PinDbModule registers its metrics (pindb_*) into
 * prom-client's default registry by itself, because prom-client is installed.
 */
@Controller()
export class MetricsController {
  @Get('metrics')
  @Header('content-type', register.contentType)
  metrics(): Promise<string> {
    return register.metrics();
  }
}
