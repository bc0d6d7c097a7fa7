import { Controller, Get } from '@nestjs/common';
import { HealthCheck, HealthCheckService } from '@nestjs/terminus';
import { PinDbHealthIndicator } from '../../lib/terminus/index.js';

/**
 * GET /health: 200 while the primary answers, 503 when it does not (a load balancer or Kubernetes
 * probe reads the status). A replica that is down or lagging keeps it 200, since reads then go to
 * the other servers, and shows in the details.
 */
@Controller()
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly pindb: PinDbHealthIndicator,
  ) {}

  @Get('health')
  @HealthCheck()
  check() {
    return this.health.check([() => this.pindb.isHealthy('database')]);
  }
}
