import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { Order } from '../orders/order.entity.js';
import { Product } from '../products/product.entity.js';
import { AdminController } from './admin.controller.js';

/** A second module, to show that PinDbModule's RoutingService and guards reach every module. */
@Module({
  imports: [TypeOrmModule.forFeature([Order, Product])],
  controllers: [AdminController],
})
export class AdminModule {}
