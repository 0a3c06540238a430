// What the demo catalog (npm run seed) promises other scripts: the flash-sale SKU that
// npm run flash-sale sells by default.

/** The seeded flash-sale item: product id, the SKU the flash sale uses, and its seeded stock. */
export const FLASH_SALE = {
  productId: "electronics-flash-sale-earbuds",
  sku: "ELE-FLASH-SALE-EARBUDS-BLACK",
  stock: 100,
};
