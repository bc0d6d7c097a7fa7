import { CanActivate, createParamDecorator, ExecutionContext, Injectable, UnauthorizedException } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { User } from './user.entity.js';

type RequestWithUser = { headers: Record<string, string | string[] | undefined>; user?: User };

/**
 * Loads the current user from the `x-user-id` header (a stand-in for a session or a JWT) with a
 * plain repository read. Controller guards run after PinDbModule's global guard, so this read
 * already honours the request's pins: a replica for GET /me, the primary for POST /orders
 * (pinned by its method) and GET /me/orders (@Pin).
 */
@Injectable()
export class CurrentUserGuard implements CanActivate {
  constructor(@InjectRepository(User) private readonly users: Repository<User>) {}

  async canActivate(execution: ExecutionContext): Promise<boolean> {
    const request = execution.switchToHttp().getRequest<RequestWithUser>();
    const id = Number(request.headers['x-user-id']);
    if (!Number.isInteger(id) || id <= 0) throw new UnauthorizedException('Send an x-user-id header, e.g. x-user-id: 1.');
    const user = await this.users.findOneBy({ id });
    if (!user) throw new UnauthorizedException(`No user ${id}.`);
    request.user = user;
    return true;
  }
}

/** The user CurrentUserGuard loaded. */
export const CurrentUser = createParamDecorator((_data: unknown, execution: ExecutionContext): User => {
  return execution.switchToHttp().getRequest<RequestWithUser>().user!;
});
