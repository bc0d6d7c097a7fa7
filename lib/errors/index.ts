export * from './no-database-available.error';
export * from './pin-db-config.error';
export * from './unpinned-write.error';
