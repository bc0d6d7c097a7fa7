import { Injectable } from '@nestjs/common';

/**
 * Where the shop's one-line logs go (a request, a job, a cron tick): stdout. One provider rather
 * than console.log in each place, so that a test can read the lines (overrideProvider(ShopLog)).
 */
@Injectable()
export class ShopLog {
  line(text: string): void {
    console.log(text);
  }
}
